import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ModgateError } from '../../core/errors.ts';

/** AES-256-GCM key size (bytes). */
const KEY_BYTES = 32;
/** GCM nonce size (bytes): 96 bits, the size GCM is specified for (NIST SP 800-38D §8.2). */
const NONCE_BYTES = 12;
/** GCM authentication tag size (bytes): the full 128 bits. */
const TAG_BYTES = 16;
/** Key ids: short, and free of the `.` that separates them from the sealed bytes. */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** Id of the random key made by `randomSealer`. */
const RANDOM_KEY_ID = 'process';

/** One AES-256 key and the id that names it in sealed values. */
export interface SealingKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

/**
 * Seals values stored at rest (minted upstream tokens in a shared store, issue
 * 5 item 2) with AES-256-GCM, so a Redis dump leaks no credential.
 *
 * Format: `<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>` with a random
 * 96-bit nonce per value. The additional authenticated data is the key id and
 * the name the value is stored under (its StateKey), so a value copied to
 * another key, or relabelled with another key id, fails to open.
 *
 * Rotation: the first key seals, every key opens; add the new key first, keep
 * the old one until entries sealed with it have expired (their TTL).
 * With random nonces, one key should seal well under 2^32 values
 * (NIST SP 800-38D §8.3); cache entries with TTLs stay far below that.
 */
export class ValueSealer {
  readonly #current: SealingKey;
  readonly #byId: ReadonlyMap<string, Buffer>;

  /** Throws `config.invalid` for no keys, a bad id, a duplicate id or a key that is not 32 bytes. */
  constructor(keys: readonly SealingKey[]) {
    const [current] = keys;
    if (current === undefined)
      throw new ModgateError('config.invalid', 'state encryption needs at least one key');
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) {
        throw new ModgateError(
          'config.invalid',
          `state encryption key id "${id}" must match ${KEY_ID.source}`,
        );
      }
      if (byId.has(id))
        throw new ModgateError('config.invalid', `state encryption key id "${id}" is repeated`);
      if (key.length !== KEY_BYTES) {
        throw new ModgateError('config.invalid', `state encryption key "${id}" must be ${KEY_BYTES} bytes`);
      }
      byId.set(id, Buffer.from(key));
    }
    this.#current = current;
    this.#byId = byId;
  }

  /** The id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Encrypts and authenticates `plaintext` for storage under `name`. */
  seal(name: string, plaintext: string): string {
    const { id, key } = this.#current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(id, name));
    const body = Buffer.concat([
      nonce,
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${id}.${body.toString('base64url')}`;
  }

  /**
   * The plaintext of a value sealed for `name`, or undefined when it is
   * malformed, sealed with an unknown key, tampered with or moved from another
   * name. Callers treat undefined as a cache miss (and mint afresh).
   */
  open(name: string, sealed: string): string | undefined {
    const dot = sealed.indexOf('.');
    if (dot < 1) return undefined;
    const id = sealed.slice(0, dot);
    const key = this.#byId.get(id);
    if (key === undefined) return undefined;
    const body = Buffer.from(sealed.slice(dot + 1), 'base64url');
    if (body.length < NONCE_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad(id, name));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      const text = Buffer.concat([
        decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return text.toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/**
 * A sealer with a random key of this process only, for when config gives no
 * key: values stay sealed at rest but other processes cannot open them (each
 * process then mints its own tokens).
 */
export function randomSealer(): ValueSealer {
  return new ValueSealer([{ id: RANDOM_KEY_ID, key: randomBytes(KEY_BYTES) }]);
}

/**
 * Decodes key material from config: 64 hex digits, or base64 / base64url of
 * 32 bytes (`openssl rand -base64 32`). Throws `config.invalid` naming
 * `keyPath`, never the value.
 */
export function parseSealingKey(text: string, keyPath: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new ModgateError(
    'config.invalid',
    `${keyPath}: must be ${KEY_BYTES} bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)`,
  );
}

function aad(keyId: string, name: string): Buffer {
  return Buffer.from(`${keyId}\0${name}`, 'utf8');
}
