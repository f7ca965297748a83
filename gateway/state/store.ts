import { createHash } from 'node:crypto';
import { ModgateError } from '../../core/errors.ts';
import { checkPositiveInteger } from '../../core/positive.ts';

/**
 * The state-store seam: what gateway processes share. Two
 * implementations: `MemoryStore` (in-process, the embedded default) and
 * `RedisStore` (shared through Redis, with a per-process fallback).
 *
 * Rules every implementation keeps:
 * - Every key is built by `stateKey` (`modgate:v1:<namespace>:<id>`) and every
 *   entry has a TTL, so nothing outlives its purpose and a schema change bumps
 *   `v1` instead of reading old entries.
 * - A key is used by one kind of operation only (value, window counter or
 *   semaphore); namespaces keep them apart.
 * - Store calls never reject because the backend is unreachable or slow: a
 *   shared store answers from process-local state instead and counts it.
 *   They reject only on programming errors (a non-positive TTL, a bad key).
 * - Values are UTF-8 strings. Binary data is encoded by the caller; secrets
 *   are sealed with gateway/state/crypto.ts first and never used as key ids
 *   (use an HMAC of them, as auth/verified-cache.ts does).
 */
export interface StateStore {
  /** `memory` or `redis`, for logs, health and metrics labels. */
  readonly kind: StateStoreKind;

  /**
   * The value under `key`, or undefined when absent or expired.
   * Serves the verified-credential cache, the negative cache, LDAP user and
   * group lookups, minted upstream tokens (sealed) and lock markers.
   */
  get(key: StateKey): Promise<string | undefined>;

  /**
   * Like `get`, and says whether the answer is the shared store's: false
   * when Redis could not be asked and this process answered from what it
   * has seen. Revocation checks use it to fail closed: a local "absent"
   * proves nothing about what another process wrote.
   */
  read(key: StateKey): Promise<StateRead>;

  /** Stores `value` under `key` for `ttlMs` milliseconds, replacing value and TTL. Same uses as `get`. */
  set(key: StateKey, value: string, ttlMs: number): Promise<void>;

  /** Removes `key`. Revocation (item 4): drop a cached credential, token or lookup everywhere. */
  delete(key: StateKey): Promise<void>;

  /**
   * Counts one event in the fixed window that starts at the first event
   * counted under `key` and lasts `windowMs`; atomic across every process
   * sharing the store. Returns the count including this event and the time
   * left until the window (and its count) ends, for `Retry-After`.
   * Serves failed-login lockout per username and per source IP and the
   * per-identity request rate limit (item 3). A lockout is then a value set
   * with the lock's TTL once the count reaches the threshold.
   */
  incrementWindow(key: StateKey, windowMs: number): Promise<WindowCount>;

  /**
   * Takes one of `limit` slots of the semaphore under `key`, or returns
   * undefined when all are taken. A slot is held until released or for
   * `ttlMs`, whichever comes first, so a crashed process cannot leak slots:
   * pick `ttlMs` above the longest upstream request. Serves the cap on
   * concurrent upstream requests per upstream (item 3); with `limit` 1 it is
   * a cross-process mutex (e.g. one LDAP bind for a credential).
   * A shared store that falls back counts only this process's slots until the
   * backend is back, so the cap then holds per process.
   */
  acquire(key: StateKey, limit: number, ttlMs: number): Promise<Lease | undefined>;

  /**
   * Sends `message` to every subscriber of `channel` in every process sharing
   * the store, this process included (synchronously for local subscribers).
   * Fire and forget: a message published while a process is cut off from the
   * backend is lost for it, so durable state (a revocation) is also `set`, and
   * `onGap` tells subscribers when to distrust their in-process copies.
   * Serves revocation and invalidation within 1 s (item 4).
   */
  publish(channel: StateChannel, message: string): Promise<void>;

  /** Calls `handler` for each message on `channel` until the subscription is closed. */
  subscribe(
    channel: StateChannel,
    handler: MessageHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription>;

  /** Whether state is shared right now, with the fallback counters; never rejects. */
  health(): Promise<StateHealth>;

  /** Releases connections and timers. Calls after `close` answer from process-local state. */
  close(): Promise<void>;
}

export type StateStoreKind = 'memory' | 'redis';

/** What {@link StateStore.read} found, and whether every process would have found it too. */
export interface StateRead {
  readonly value: string | undefined;
  readonly shared: boolean;
}

/** A fixed-window count; see `StateStore.incrementWindow`. */
export interface WindowCount {
  /** Events in the current window, this one included (≥ 1). */
  readonly count: number;
  /** Milliseconds until the window ends and the count restarts (≥ 1). */
  readonly resetInMs: number;
}

/** One held semaphore slot; see `StateStore.acquire`. */
export interface Lease {
  /** Random id of the slot (unique across processes). */
  readonly id: string;
  /** Frees the slot; idempotent and never rejects. A slot not freed expires with its TTL. */
  release(): Promise<void>;
}

export type MessageHandler = (message: string) => void;

export interface SubscribeOptions {
  /**
   * Called after this process was cut off from the shared backend and got
   * back: messages may have been lost meanwhile, so in-process copies that a
   * message would have invalidated should be dropped.
   */
  onGap?: () => void;
}

export interface Subscription {
  /** Stops delivery to this handler; idempotent. */
  close(): Promise<void>;
}

export interface StateHealth {
  readonly kind: StateStoreKind;
  /** True when calls reach the shared backend (always true for the in-process store). */
  readonly shared: boolean;
  /** Calls answered from process-local state because the backend failed or was slow, per operation. */
  readonly fallbacks: Readonly<Record<StateOperation, number>>;
  /** A short reason when not shared (no secrets). */
  readonly detail?: string;
}

/** Operations counted in `StateHealth.fallbacks`. */
export type StateOperation =
  | 'get'
  | 'set'
  | 'delete'
  | 'incrementWindow'
  | 'acquire'
  | 'release'
  | 'publish'
  | 'subscribe';

export const STATE_OPERATIONS: readonly StateOperation[] = [
  'get',
  'set',
  'delete',
  'incrementWindow',
  'acquire',
  'release',
  'publish',
  'subscribe',
];

/** A zeroed fallback counter per operation. */
export function zeroCounters(): Record<StateOperation, number> {
  return Object.fromEntries(STATE_OPERATIONS.map((op) => [op, 0])) as Record<StateOperation, number>;
}

declare const stateKeyBrand: unique symbol;
declare const stateChannelBrand: unique symbol;
/** A key built by `stateKey`. */
export type StateKey = string & { readonly [stateKeyBrand]: true };
/** A channel built by `stateChannel`. */
export type StateChannel = string & { readonly [stateChannelBrand]: true };

/** Prefix of every key and channel: product and layout version. Bump the version when an entry's format changes. */
export const STATE_PREFIX = 'modgate:v1';
/** Ids longer than this (characters) are replaced by their SHA-256, so client input cannot make huge keys. */
export const MAX_ID_CHARS = 200;
const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The key of `id` in `namespace`: `modgate:v1:<namespace>:<id>`. Namespaces
 * are lowercase words (`auth-verified`, `lockout-user`, `upstream-token`);
 * ids are free text (usernames, IPs, HMACs) and hashed when very long.
 * Never pass a secret as `id`.
 */
export function stateKey(namespace: string, id: string): StateKey {
  checkName('namespace', namespace);
  if (id === '') throw new ModgateError('internal', 'state key id must not be empty');
  const safeId = id.length > MAX_ID_CHARS ? `sha256-${createHash('sha256').update(id).digest('hex')}` : id;
  return `${STATE_PREFIX}:${namespace}:${safeId}` as StateKey;
}

/** The pub/sub channel `name`: `modgate:v1:<name>` (e.g. `revocations`). */
export function stateChannel(name: string): StateChannel {
  checkName('channel', name);
  return `${STATE_PREFIX}:${name}` as StateChannel;
}

/** Rejects a TTL, window or limit that is not a positive safe integer (a programming error). */
export function checkPositive(what: string, n: number): void {
  checkPositiveInteger(`state ${what}`, n);
}

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    throw new ModgateError('internal', `state ${what} "${name}" must match ${NAME.source}`);
  }
}
