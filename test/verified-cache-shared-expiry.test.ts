/**
 * Regression: a process that reads another's entry from the shared
 * credential cache keeps it only until that entry's own expiry, not for a
 * fresh TTL from the read. Before, a group removed in LDAP could still grant
 * access at a second process for almost two TTLs (test/group-change-basic.test.ts
 * shows it over HTTP with two gateway processes and Redis).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SharedCache } from '../auth/verified-cache.ts';
import { VerifiedCache } from '../auth/verified-cache.ts';

const TTL_MS = 1_000;

/** An in-memory shared level on a test clock (Redis' own TTL included). */
function sharedOn(clock: { now: number }): SharedCache & { raw: Map<string, string> } {
  const entries = new Map<string, { value: string; until: number }>();
  const raw = new Map<string, string>();
  return {
    raw,
    async get(key) {
      const e = entries.get(key);
      return e !== undefined && e.until > clock.now ? e.value : undefined;
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, until: clock.now + ttlMs });
      raw.set(key, value);
    },
    async lock() {
      return { release: async () => undefined };
    },
  };
}

function processCache(clock: { now: number }, shared: SharedCache) {
  return new VerifiedCache<string>({
    key: 'same-key-in-every-process',
    ttlMs: TTL_MS,
    maxEntries: 100,
    now: () => clock.now,
    shared: { cache: shared, encode: (v) => v, decode: (t) => t },
  });
}

describe('a shared entry read late', () => {
  it('expires where its writer put it, not a TTL after the read', async () => {
    const clock = { now: 1_000_000 };
    const shared = sharedOn(clock);
    const a = processCache(clock, shared);
    const b = processCache(clock, shared);
    const key = a.keyOf('basic', 'erin', 'pw');
    let groups = 'none';
    let verifications = 0;
    const verify = async () => {
      verifications++;
      return groups;
    };
    expect(await a.getOrVerify(key, verify)).toBe('none'); // A verifies at t=0
    groups = 'team-a'; // the directory changes
    clock.now += TTL_MS - 100;
    expect(await b.getOrVerify(key, verify)).toBe('none'); // B reads A's entry, still valid
    expect(verifications).toBe(1);
    clock.now += 101; // one TTL after A's verification
    expect(await b.getOrVerify(key, verify)).toBe('team-a');
    expect(await a.getOrVerify(key, verify)).toBe('team-a');
    expect(verifications).toBe(2);
  });

  it('a shared value without an expiry (another version’s format) is a miss, not trusted', async () => {
    const clock = { now: 1_000_000 };
    const shared = sharedOn(clock);
    const a = processCache(clock, shared);
    const key = a.keyOf('basic', 'erin', 'pw');
    await shared.set(key, 'team-a', TTL_MS);
    expect(await a.getOrVerify(key, async () => 'none')).toBe('none');
    expect(shared.raw.get(key)).toBe(`${clock.now + TTL_MS} none`);
  });
});

describe('VerifiedCache.keyOf', () => {
  it('is HMAC-SHA256 over the NUL-terminated parts, so every process and version with the key agrees', () => {
    const cache = new VerifiedCache<string>({ key: 'shared-secret', ttlMs: TTL_MS, maxEntries: 10 });
    const expected = createHmac('sha256', 'shared-secret').update('basic\0erin\0pw\0').digest('base64url');
    expect(cache.keyOf('basic', 'erin', 'pw')).toBe(expected);
  });
});
