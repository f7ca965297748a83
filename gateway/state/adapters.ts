import type { SharedCache } from '../../auth/verified-cache.ts';
import type { TokenCache } from '../credentials/token-cache.ts';
import type { ValueSealer } from './crypto.ts';
import { type StateStore, stateKey } from './store.ts';

/** The verified-credential cache's shared level: HMAC keys, user name and groups as values (no secret). */
export function sharedAuthCache(store: StateStore): SharedCache {
  return {
    get: (key) => store.get(stateKey('auth', key)),
    set: (key, value, ttlMs) => store.set(stateKey('auth', key), value, ttlMs),
    async lock(key, ttlMs) {
      const lease = await store.acquire(stateKey('auth-lock', key), 1, ttlMs);
      return lease && { release: () => lease.release() };
    },
  };
}

/**
 * Minted upstream tokens, shared by every process and sealed with AES-GCM
 * (the key name is bound in, so a value cannot be replayed under another
 * key): a dump of Redis shows no upstream credential.
 */
export function sealedTokenCache(store: StateStore, sealer: ValueSealer): TokenCache {
  const keyOf = (key: string) => stateKey('upstream-token', key);
  return {
    async get(key) {
      const sealed = await store.get(keyOf(key));
      return sealed === undefined ? undefined : sealer.open(keyOf(key), sealed);
    },
    set: (key, value, ttlMs) => store.set(keyOf(key), sealer.seal(keyOf(key), value), ttlMs),
    delete: (key) => store.delete(keyOf(key)),
  };
}
