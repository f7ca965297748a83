/**
 * sumdb/note.ts against the test vectors of golang.org/x/mod/sumdb/note
 * (v0.7.0 note_test.go: TestNewVerifier, TestSign's output, TestOpen): the
 * keys, texts and signatures are the ones x/mod publishes in its tests.
 */
import { describe, expect, it } from 'vitest';
import { type NoteVerifier, openNote, parseVerifierKey } from '../sumdb/note.ts';
import { refusal } from './support/refusal.ts';

/** The x/mod error text a call is refused with (as sumdb.bad_response). */
const bad = (fn: () => unknown): string => refusal('sumdb.bad_response', fn);

const PETER_KEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_KEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
/** The well-known verifier key of sum.golang.org (cmd/go/internal/modfetch/key.go, go 1.19 and 1.26). */
const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const PETER = {
  name: 'PeterNeumann',
  keyHash: 0xc74f20a3,
  base64: 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
};
const ENOCH = {
  name: 'EnochRoot',
  keyHash: 0xaf0cfe78,
  base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=',
};

/** `sig` with ABCD inserted at byte 60, as note_test.go's `sig[:60]+"ABCD"+sig[60:]` (bytes, not characters: — is three). */
function abcdAt60(sig: string): string {
  const b = Buffer.from(sig);
  return Buffer.concat([b.subarray(0, 60), Buffer.from('ABCD'), b.subarray(60)]).toString();
}

const open = (msg: string, known: readonly NoteVerifier[]) => openNote(Buffer.from(msg, 'utf8'), known);

describe('parseVerifierKey (TestNewVerifier)', () => {
  it('accepts the published keys and reads name and key hash', () => {
    const peter = parseVerifierKey(PETER_KEY);
    expect([peter.name, peter.keyHash]).toEqual(['PeterNeumann', 0xc74f20a3]);
    const sum = parseVerifierKey(SUM_GOLANG_ORG_KEY);
    expect([sum.name, sum.keyHash]).toEqual(['sum.golang.org', 0x033de0ae]);
  });

  it('refuses every proper substring and every one-byte mangling of the key', () => {
    const b = Buffer.from(PETER_KEY);
    const accepted: string[] = [];
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        const k = b.subarray(i, j).toString('latin1');
        if (bad(() => parseVerifierKey(k)) === 'accepted') accepted.push(k);
      }
    }
    for (let i = 0; i < b.length; i++) {
      const m = Buffer.from(b);
      m[i] = (m[i] as number) + 1;
      const k = m.toString('latin1');
      if (bad(() => parseVerifierKey(k)) === 'accepted') accepted.push(k);
    }
    expect(accepted).toEqual([]);
  });

  it.each([
    ['PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==', 'malformed verifier id'],
    ['PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'unknown verifier algorithm'],
    ['PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'invalid verifier hash'],
    // sum.golang.org's key with the wrong tail (as once miscopied into a design note): its hash does not match.
    ['sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ikz7ONhk3TSDfPWu', 'invalid verifier hash'],
    ['Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'malformed verifier id'],
  ])('refuses %s: %s', (key, message) => {
    expect(bad(() => parseVerifierKey(key))).toBe(message);
  });
});

describe('openNote (TestSign output, TestOpen)', () => {
  const peter = parseVerifierKey(PETER_KEY);
  const enoch = parseVerifierKey(ENOCH_KEY);

  it('opens the note x/mod signs in TestSign', () => {
    const note = open(`${TEXT}\n${PETER_SIG}`, [peter]);
    expect(note).toEqual({ text: TEXT, sigs: [PETER], unverifiedSigs: [] });
  });

  it('keeps a signature of an unknown key aside, unverified', () => {
    expect(open(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter])).toEqual({
      text: TEXT,
      sigs: [PETER],
      unverifiedSigs: [ENOCH],
    });
  });

  it('verifies both signatures when both keys are known', () => {
    expect(open(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch])).toEqual({
      text: TEXT,
      sigs: [PETER, ENOCH],
      unverifiedSigs: [],
    });
  });

  it('refuses a note with no verifiable signature', () => {
    expect(bad(() => open(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []))).toBe(
      'note has no verifiable signatures',
    );
  });

  it('refuses an ambiguous key only when a signature needs it', () => {
    expect(bad(() => open(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]))).toBe(
      'ambiguous key EnochRoot+af0cfe78',
    );
    expect(open(`${TEXT}\n${PETER_SIG}`, [enoch, peter, enoch]).sigs).toEqual([PETER]);
  });

  it('refuses more than 100 signatures, verified or not', () => {
    expect(bad(() => open(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]))).toBe('malformed note');
    expect(bad(() => open(`${TEXT}\n${PETER_SIG.repeat(101)}`, []))).toBe('malformed note');
  });

  it('refuses a signature that does not verify', () => {
    const msg = `${TEXT}\n${abcdAt60(PETER_SIG)}`;
    expect(bad(() => open(msg, [peter]))).toBe('invalid signature for key PeterNeumann+c74f20a3');
  });

  it('drops repeated signatures, verified and unverified', () => {
    const enochAbcd = {
      ...ENOCH,
      base64:
        'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=',
    };
    const msg = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${abcdAt60(ENOCH_SIG)}`;
    expect(open(msg, [peter])).toEqual({ text: TEXT, sigs: [PETER], unverifiedSigs: [ENOCH, enochAbcd] });
  });

  it.each([
    ['the text alone', TEXT],
    ['no signature after the blank line', `${TEXT}\n`],
    ['a signature line without its newline', `${TEXT}\n${PETER_SIG.slice(0, -1)}`],
    ['a control character', `\x01${TEXT}\n${PETER_SIG}`],
    ['a name with a space', `${TEXT}\n— Bad Name ${PETER.base64}`],
    ['a line after the signatures', `${TEXT}\n${PETER_SIG}Unexpected line.\n`],
  ])('refuses %s as malformed', (_what, msg) => {
    expect(bad(() => open(msg, [peter]))).toBe('malformed note');
  });

  it('refuses bytes that are not UTF-8 as malformed', () => {
    const msg = Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]);
    expect(bad(() => openNote(msg, [peter]))).toBe('malformed note');
  });

  it('treats a signature whose key hash differs as a signature of an unknown key', () => {
    expect(bad(() => open(`${TEXT}\n${PETER_SIG.replaceAll('x08g', 'xxxx')}`, [peter]))).toBe(
      'note has no verifiable signatures',
    );
  });
});
