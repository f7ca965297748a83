import type { RevocationCheck } from '../../auth/authenticator.ts';
import { ModgateError } from '../../core/errors.ts';
import { type StateStore, stateChannel, stateKey } from '../state/store.ts';

/** Where the revocation list lives in the state store: one small map, user → revoked-until (ms since epoch). */
const LIST_KEY = stateKey('revocations', 'users');
const CHANNEL = stateChannel('revocations');
/** Longest revocation (ms): the list's own TTL is the latest end among its entries. */
export const MAX_REVOCATION_MS = 365 * 24 * 3_600_000;

/**
 * Revoked users, shared by every gateway process: a revocation made at one
 * process is published (every process drops its cached credentials for the
 * user at once, well within 1 s) and stored (a process that starts later, or
 * missed the message during a Redis outage, reads it back). Checks are
 * answered from process memory, so they cost nothing per request.
 */
export class Revocations implements RevocationCheck {
  readonly #store: StateStore;
  readonly #now: () => number;
  #until = new Map<string, number>();
  readonly #listeners: ((user: string) => void)[] = [];

  private constructor(store: StateStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  static async open(store: StateStore, now: () => number = Date.now): Promise<Revocations> {
    const r = new Revocations(store, now);
    await store.subscribe(CHANNEL, (message) => r.#apply(message), { onGap: () => void r.#reload() });
    await r.#reload();
    return r;
  }

  /** Revokes `user` for `forMs` in every process. Returns when stored and published. */
  async revoke(user: string, forMs: number): Promise<{ until: Date }> {
    const until = this.#now() + Math.min(forMs, MAX_REVOCATION_MS);
    const list = await this.#read();
    list.set(user, Math.max(until, list.get(user) ?? 0));
    await this.#write(list);
    await this.#store.publish(CHANNEL, JSON.stringify({ user, until }));
    return { until: new Date(until) };
  }

  /** Lifts a revocation everywhere. */
  async lift(user: string): Promise<void> {
    const list = await this.#read();
    list.delete(user);
    await this.#write(list);
    await this.#store.publish(CHANNEL, JSON.stringify({ user, until: 0 }));
  }

  assertNotRevoked(user: string): void {
    const until = this.#until.get(user);
    if (until !== undefined && until > this.#now()) {
      throw new ModgateError(
        'auth.revoked',
        `access for ${user} is revoked until ${new Date(until).toISOString()}`,
      );
    }
  }

  async assertNotRevokedShared(user: string): Promise<void> {
    await this.#reload();
    this.assertNotRevoked(user);
  }

  onRevoke(drop: (user: string) => void): void {
    this.#listeners.push(drop);
  }

  #apply(message: string): void {
    try {
      const { user, until } = JSON.parse(message) as { user: unknown; until: unknown };
      if (typeof user !== 'string' || typeof until !== 'number') return;
      if (until > this.#now()) this.#until.set(user, until);
      else this.#until.delete(user);
      for (const drop of this.#listeners) drop(user);
    } catch {
      // Not ours: ignore.
    }
  }

  async #reload(): Promise<void> {
    const list = await this.#read();
    for (const [user, until] of list)
      if (until > (this.#until.get(user) ?? 0)) for (const drop of this.#listeners) drop(user);
    this.#until = list;
  }

  /**
   * The stored list. While Redis cannot be asked, the local copy may lack
   * revocations another process made (and that reached this one by
   * message), so it is merged into what this process knows, never
   * replacing it: revocations fail closed.
   */
  async #read(): Promise<Map<string, number>> {
    const { value, shared } = await this.#store.read(LIST_KEY);
    const out = this.#parse(value);
    if (!shared) {
      for (const [user, until] of this.#until)
        if (until > this.#now() && until > (out.get(user) ?? 0)) out.set(user, until);
    }
    return out;
  }

  #parse(text: string | undefined): Map<string, number> {
    const now = this.#now();
    const out = new Map<string, number>();
    if (text === undefined) return out;
    try {
      for (const [user, until] of Object.entries(JSON.parse(text) as Record<string, unknown>)) {
        if (typeof until === 'number' && until > now) out.set(user, until);
      }
    } catch {
      // A corrupt list counts as empty; the next revocation rewrites it.
    }
    return out;
  }

  async #write(list: Map<string, number>): Promise<void> {
    const latest = Math.max(0, ...list.values());
    const ttl = latest - this.#now();
    if (ttl <= 0) await this.#store.delete(LIST_KEY);
    else await this.#store.set(LIST_KEY, JSON.stringify(Object.fromEntries(list)), ttl);
  }
}
