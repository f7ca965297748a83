/**
 * Signed notes, a port of golang.org/x/mod/sumdb/note (v0.7.0) for reading:
 * verifier keys (`<name>+<hash>+<base64 key>`, Ed25519 only) and note.Open,
 * which checks the note's syntax and signatures. A note is UTF-8 text, a
 * blank line, then signature lines `— <name> <base64(key hash ‖ signature)>`.
 * https://pkg.go.dev/golang.org/x/mod/sumdb/note
 *
 * Every refusal is ModgateError('sumdb.bad_response') whose message is the
 * x/mod error text (`malformed note`, `invalid signature for key …`).
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ModgateError } from '../core/errors.ts';
import { decodeNoteText, decodeStdBase64 } from './encoding.ts';

/** The algorithm byte in front of an Ed25519 public key (note's algEd25519). */
const ALG_ED25519 = 1;

/** Ed25519 public keys are 32 bytes. */
const ED25519_KEY_BYTES = 32;

/** Signatures a note may carry before it is refused as malformed (x/mod's limit). */
const MAX_SIGNATURES = 100;

/** What separates the text from the signatures, and what starts a signature line. */
const SIG_SPLIT = '\n\n';
const SIG_PREFIX = '— ';

/** The characters Go's unicode.IsSpace accepts (not U+FEFF, which JavaScript's \s also matches). */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Checks signatures of one key. */
export interface NoteVerifier {
  readonly name: string;
  /** The first four bytes of SHA-256(name ‖ "\n" ‖ alg ‖ key), big-endian. */
  readonly keyHash: number;
  verify(message: Buffer, signature: Buffer): boolean;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyHash: number;
  readonly base64: string;
}

/** An opened note: its text (ending in a newline) and its signatures. */
export interface Note {
  readonly text: string;
  /** Signatures verified by a known key, in order, repeats dropped. */
  readonly sigs: readonly NoteSignature[];
  /** Signatures of keys not known, in order, repeats dropped. */
  readonly unverifiedSigs: readonly NoteSignature[];
}

function refused(message: string): ModgateError {
  return new ModgateError('sumdb.bad_response', message);
}

/** note's isValidName: not empty, no white space, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !GO_SPACE.test(name) && !name.includes('+');
}

/** The key hash of a key (note's keyHash). */
export function keyHashOf(name: string, key: Buffer): number {
  return createHash('sha256').update(`${name}\n`).update(key).digest().readUInt32BE(0);
}

/** `name+hash` as x/mod prints a key in its errors. */
export function keyLabel(name: string, keyHash: number): string {
  return `${name}+${keyHash.toString(16).padStart(8, '0')}`;
}

function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** Parses a verifier key (note.NewVerifier), e.g. `sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8`. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const [name, rest] = chop(vkey, '+');
  const [hash16, key64] = chop(rest, '+');
  const key = decodeStdBase64(key64);
  if (!/^[0-9a-fA-F]{8}$/.test(hash16) || key === undefined || !isValidKeyName(name) || key.length === 0) {
    throw refused('malformed verifier id');
  }
  const keyHash = Number.parseInt(hash16, 16);
  if (keyHash !== keyHashOf(name, key)) throw refused('invalid verifier hash');
  if (key[0] !== ALG_ED25519) throw refused('unknown verifier algorithm');
  if (key.length !== 1 + ED25519_KEY_BYTES) throw refused('malformed verifier id');
  const publicKey: KeyObject = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  return {
    name,
    keyHash,
    verify(message, signature) {
      try {
        return verify(null, message, publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}

/** The one verifier of `known` for a signature, undefined when none is (note's VerifierList.Verifier). */
function findVerifier(
  known: readonly NoteVerifier[],
  name: string,
  keyHash: number,
): NoteVerifier | undefined {
  const matching = known.filter((v) => v.name === name && v.keyHash === keyHash);
  if (matching.length > 1) throw refused(`ambiguous key ${keyLabel(name, keyHash)}`);
  return matching[0];
}

/**
 * Parses and verifies a signed note (note.Open): at least one signature must
 * be by a key of `known` and every such signature must verify; signatures of
 * unknown keys are kept aside, unchecked.
 */
export function openNote(message: Uint8Array, known: readonly NoteVerifier[]): Note {
  const msg = decodeNoteText(message);
  if (msg === undefined) throw refused('malformed note');
  const split = msg.lastIndexOf(SIG_SPLIT);
  if (split < 0) throw refused('malformed note');
  const text = msg.slice(0, split + 1);
  let sigs = msg.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) throw refused('malformed note');
  const textBytes = Buffer.from(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  let count = 0;
  while (sigs !== '') {
    const nl = sigs.indexOf('\n');
    let line = sigs.slice(0, nl);
    sigs = sigs.slice(nl + 1);
    if (!line.startsWith(SIG_PREFIX)) throw refused('malformed note');
    line = line.slice(SIG_PREFIX.length);
    const [name, b64] = chop(line, ' ');
    const raw = decodeStdBase64(b64);
    if (raw === undefined || !isValidKeyName(name) || b64 === '' || raw.length < 5) {
      throw refused('malformed note');
    }
    const keyHash = raw.readUInt32BE(0);
    if (++count > MAX_SIGNATURES) throw refused('malformed note');
    const signature: NoteSignature = { name, keyHash, base64: b64 };
    const verifier = findVerifier(known, name, keyHash);
    if (verifier === undefined) {
      if (!seenUnverified.has(line)) unverified.push(signature);
      seenUnverified.add(line);
      continue;
    }
    const label = keyLabel(name, keyHash);
    if (seen.has(label)) continue;
    seen.add(label);
    if (!verifier.verify(textBytes, raw.subarray(4))) throw refused(`invalid signature for key ${label}`);
    verified.push(signature);
  }
  if (verified.length === 0) throw refused('note has no verifiable signatures');
  return { text, sigs: verified, unverifiedSigs: unverified };
}
