import { decodeRecords, type TokenRecord, type TokenRegistry } from '../../auth/pat/token-registry.ts';
import { ModgateError } from '../../core/errors.ts';
import { type StateStore, stateKey } from '../state/store.ts';

/** Longest one owner's list is held locked for an update (ms); a crashed holder frees it after this. */
const LIST_LOCK_TTL_MS = 5_000;
/** How long an update waits for another process's update of the same list (ms). */
const LIST_LOCK_WAIT_MS = 2_000;
/** How often a waiting update tries the lock again (ms). */
const LIST_LOCK_POLL_MS = 25;
/** Most tokens one owner may hold at once (tokens); the oldest beyond it are not listed. */
export const MAX_TOKENS_PER_OWNER = 50;

/**
 * Issued personal tokens per owner in the shared state store: one JSON list
 * per owner, kept until its last token expires, updated under a
 * cross-process lock so two processes adding at once lose nothing.
 */
export function storeTokenRegistry(store: StateStore, now: () => number = Date.now): TokenRegistry {
  const keyOf = (owner: string) => stateKey('pat-list', owner);
  const live = (records: TokenRecord[]) => records.filter((r) => r.expiresAtMs > now());

  async function update<T>(
    owner: string,
    change: (records: TokenRecord[]) => [TokenRecord[], T],
  ): Promise<T> {
    const lockKey = stateKey('pat-list-lock', owner);
    const deadline = now() + LIST_LOCK_WAIT_MS;
    let lease = await store.acquire(lockKey, 1, LIST_LOCK_TTL_MS);
    while (lease === undefined && now() < deadline) {
      await new Promise((r) => setTimeout(r, LIST_LOCK_POLL_MS));
      lease = await store.acquire(lockKey, 1, LIST_LOCK_TTL_MS);
    }
    if (lease === undefined) {
      throw new ModgateError('state.unavailable', 'token list is busy; try again', { detail: { owner } });
    }
    try {
      const [next, result] = change(live(decodeRecords(await store.get(keyOf(owner)))));
      if (next.length === 0) await store.delete(keyOf(owner));
      else {
        const lastExpiry = Math.max(...next.map((r) => r.expiresAtMs));
        await store.set(keyOf(owner), JSON.stringify(next), Math.max(1, lastExpiry - now()));
      }
      return result;
    } finally {
      await lease.release();
    }
  }

  return {
    add: (record) =>
      update(record.owner, (records) => [[record, ...records].slice(0, MAX_TOKENS_PER_OWNER), undefined]),
    async list(owner) {
      return live(decodeRecords(await store.get(keyOf(owner)))).sort((a, b) => b.issuedAtMs - a.issuedAtMs);
    },
    remove: (owner, jti) =>
      update(owner, (records) => {
        const found = records.find((r) => r.jti === jti);
        return [records.filter((r) => r.jti !== jti), found];
      }),
  };
}
