/**
 * Password hashes for the users file: argon2id for new hashes, bcrypt accepted
 * for hashes carried over from htpasswd-style files.
 *
 * Formats: argon2id in the PHC string format (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`,
 * RFC 9106) and bcrypt in the modular crypt format (`$2a$`, `$2b$`, `$2y$`).
 * Anything else never verifies; the users file rejects it at load time
 * (see `isSupportedHash`).
 */
import type { Algorithm } from '@node-rs/argon2';
import {
  hash as argon2Hash,
  verify as argon2Verify,
  parseOptions as parseArgon2Options,
} from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/** `Algorithm.Argon2id` of @node-rs/argon2 (an ambient const enum, so spelt out here). */
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id memory cost, in KiB (19 MiB). OWASP Password Storage Cheat Sheet,
 * first recommended configuration: m=19456, t=2, p=1.
 */
export const ARGON2_MEMORY_COST_KIB = 19_456;
/** argon2id time cost, in passes over the memory (OWASP: 2 with 19 MiB). */
export const ARGON2_TIME_COST = 2;
/** argon2id parallelism, in lanes (OWASP: 1). */
export const ARGON2_PARALLELISM = 1;
/** argon2id output length, in bytes (RFC 9106 §4 recommends 32 for passwords). */
export const ARGON2_OUTPUT_BYTES = 32;

/**
 * An argon2id hash (with the parameters above) of a random string nobody knows.
 * Verifying against it costs what verifying a real hash costs, so an unknown
 * user name is not answered faster than a wrong password.
 */
export const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$Wlb8TAH23C8zX8Qd1CNTpg$h/J8dLMtmUWg4u9LiJUguG+ja5lfMVE4qifmmaAHoZ0';

const ARGON2ID_PREFIX = '$argon2id$';
/** bcrypt modular crypt format: variant, two-digit cost, 22 salt + 31 hash characters. */
const BCRYPT_PATTERN = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/** Hashes a password with argon2id and the OWASP parameters above (PHC string). */
export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, {
    algorithm: ARGON2ID,
    memoryCost: ARGON2_MEMORY_COST_KIB,
    timeCost: ARGON2_TIME_COST,
    parallelism: ARGON2_PARALLELISM,
    outputLen: ARGON2_OUTPUT_BYTES,
  });
}

/** True for a well-formed argon2id or bcrypt hash, the formats `verifyPasswordHash` accepts. */
export function isSupportedHash(hash: string): boolean {
  if (hash.startsWith(ARGON2ID_PREFIX)) {
    try {
      parseArgon2Options(hash);
      return true;
    } catch {
      return false;
    }
  }
  return BCRYPT_PATTERN.test(hash);
}

/**
 * Checks a password against an argon2id or bcrypt hash. Unknown or malformed
 * hashes return false (never throw): a hash that cannot be checked never lets
 * anyone in. Both libraries compare in constant time.
 *
 * bcrypt only reads the first 72 bytes of a password (a property of the
 * algorithm); new hashes are argon2id, which has no such limit.
 */
export async function verifyPasswordHash(hash: string, password: string): Promise<boolean> {
  try {
    if (hash.startsWith(ARGON2ID_PREFIX)) return await argon2Verify(hash, password);
    if (BCRYPT_PATTERN.test(hash)) return await bcrypt.compare(password, hash);
  } catch {
    // A malformed hash: isSupportedHash keeps these out of the users file.
  }
  return false;
}

/**
 * Spends the work of one verification and discards the result: call it for an
 * unknown user so the answer takes as long as a wrong password does. Pass a
 * dummy made by `dummyHashLike` when the real hashes use other parameters.
 */
export async function burnVerification(password: string, dummyHash: string = DUMMY_HASH): Promise<void> {
  await verifyPasswordHash(dummyHash, password);
}

/**
 * A hash of a random secret with the same algorithm and cost as `hash`, so
 * `burnVerification` with it costs what verifying against `hash` costs.
 * Unsupported formats get `DUMMY_HASH`.
 */
export async function dummyHashLike(hash: string): Promise<string> {
  const secret = crypto.randomUUID();
  const bcryptCost = BCRYPT_PATTERN.exec(hash)?.[1];
  if (bcryptCost !== undefined) return bcrypt.hash(secret, Number(bcryptCost));
  if (!isSupportedHash(hash)) return DUMMY_HASH;
  const params = parseArgon2Options(hash);
  return argon2Hash(secret, {
    algorithm: ARGON2ID,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    outputLen: params.outputLen,
  });
}

/**
 * A key naming a hash's algorithm and cost (`bcrypt:10`, `argon2id:19456:2:1`),
 * for picking the most common cost among a set of hashes; undefined if unsupported.
 */
export function hashCostKey(hash: string): string | undefined {
  const bcryptCost = BCRYPT_PATTERN.exec(hash)?.[1];
  if (bcryptCost !== undefined) return `bcrypt:${Number(bcryptCost)}`;
  if (!isSupportedHash(hash)) return undefined;
  const p = parseArgon2Options(hash);
  return `argon2id:${p.memoryCost}:${p.timeCost}:${p.parallelism}:${p.outputLen}`;
}
