import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { BoundedMap } from '../../core/bounded-map.ts';
import { ModgateError } from '../../core/errors.ts';

/** Ids remembered per process (entries), oldest dropped first. */
const RECENT_IDS = 10_000;

/** Least size of the key that hashes names into state keys (bytes): 128 bits. */
export const MIN_SUBJECT_KEY_BYTES = 16;

/**
 * Turns a client-supplied name (a username before it is verified, an
 * identity) into a state-key id that cannot be reversed or tested against a
 * list of likely names without the key: HMAC-SHA256 over a purpose label and
 * the name, NUL-separated, in base64url (43 characters).
 *
 * The purpose label (`user`, `identity`) keeps the ids of one name in two
 * features unlinkable. Every process sharing a store must use the same key,
 * or they count the same name under different ids.
 */
export class SubjectHasher {
  /** A KeyObject made once: a Buffer key would be turned into one on every HMAC (~20 µs each). */
  readonly #key: KeyObject;

  /** Throws `config.invalid` for a key shorter than {@link MIN_SUBJECT_KEY_BYTES}; the message never shows the key. */
  constructor(key: string | Uint8Array) {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    this.#key = createSecretKey(bytes);
    if (bytes.length < MIN_SUBJECT_KEY_BYTES) {
      throw new ModgateError(
        'config.invalid',
        `the abuse-protection key must be at least ${MIN_SUBJECT_KEY_BYTES} bytes`,
      );
    }
  }

  /** Recent ids by purpose and name (names are not secrets): one HMAC per name, not one per request. */
  readonly #recent = new BoundedMap<string, string>(RECENT_IDS);

  /** The id of `name` for `purpose`. */
  id(purpose: string, name: string): string {
    const memo = `${purpose}\0${name}`;
    const known = this.#recent.get(memo);
    if (known !== undefined) return known;
    const id = createHmac('sha256', this.#key).update(purpose).update('\0').update(name).digest('base64url');
    this.#recent.set(memo, id);
    return id;
  }
}
