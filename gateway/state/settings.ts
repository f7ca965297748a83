import type { StateConfig } from './config.ts';
import { parseSealingKey, randomSealer, type SealingKey, ValueSealer } from './crypto.ts';
import { MemoryStore, type StateLogger } from './memory-store.ts';
import type { HostPort, RedisStoreOptions, RedisTopology } from './redis-options.ts';
import { RedisStore } from './redis-store.ts';
import type { StateStore } from './store.ts';

/** Resolves a secret reference found at `keys` (as gateway/config/load.ts does, reporting problems there). */
export type ResolveSecret = (ref: string, keys: string[]) => string;

/** The `state:` section with secrets resolved: what `openStateStore` needs. */
export type StateSettings =
  | { readonly kind: 'memory'; readonly maxEntries: number; readonly sealingKeys: readonly SealingKey[] }
  | {
      readonly kind: 'redis';
      readonly redis: Omit<RedisStoreOptions, 'logger'>;
      readonly sealingKeys: readonly SealingKey[];
    };

/**
 * Turns validated `state:` config into settings, resolving every secret
 * through `secret`. Throws `config.invalid` (naming the key, never the value)
 * for encryption keys that are not 32 bytes.
 */
export function stateSettings(config: StateConfig, secret: ResolveSecret): StateSettings {
  const sealingKeys = (config.encryption?.keys ?? []).map(({ id, key }, i) => {
    const keys = ['state', 'encryption', 'keys', String(i), 'key'];
    return { id, key: parseSealingKey(secret(key, keys), keys.join('.')) };
  });
  if (config.kind === 'memory') return { kind: 'memory', maxEntries: config.max_entries, sealingKeys };
  const resolve = (ref: string | undefined, keys: string[]): string | undefined =>
    ref === undefined ? undefined : secret(ref, keys);
  const tls = config.tls;
  const redis: Omit<RedisStoreOptions, 'logger'> = {
    topology: topologyOf(config, secret),
    username: config.username,
    password: resolve(config.password, ['state', 'password']),
    tls:
      tls === undefined
        ? undefined
        : {
            ca: resolve(tls.ca, ['state', 'tls', 'ca']),
            serverName: tls.server_name,
            insecureSkipVerify: tls.insecure_skip_verify,
          },
    commandTimeoutMs: config.command_timeout,
    connectTimeoutMs: config.connect_timeout,
    maxEntries: config.max_entries,
  };
  return { kind: 'redis', redis, sealingKeys };
}

/**
 * Opens the configured store and the sealer for values at rest. Without
 * configured keys the sealer uses a random per-process key. Waits at most the
 * connect timeout for Redis and never fails because Redis is unreachable.
 */
export async function openStateStore(
  settings: StateSettings,
  logger: StateLogger,
): Promise<{ store: StateStore; sealer: ValueSealer }> {
  const sealer = settings.sealingKeys.length > 0 ? new ValueSealer(settings.sealingKeys) : randomSealer();
  const store =
    settings.kind === 'memory'
      ? new MemoryStore({ maxEntries: settings.maxEntries, logger })
      : await RedisStore.open({ ...settings.redis, logger });
  return { store, sealer };
}

function topologyOf(config: Extract<StateConfig, { kind: 'redis' }>, secret: ResolveSecret): RedisTopology {
  if (config.sentinels !== undefined) {
    return {
      kind: 'sentinel',
      sentinels: config.sentinels.map(hostPortOf),
      name: config.name ?? '',
      db: config.db,
      sentinelUsername: config.sentinel_username,
      sentinelPassword:
        config.sentinel_password === undefined
          ? undefined
          : secret(config.sentinel_password, ['state', 'sentinel_password']),
    };
  }
  if (config.nodes !== undefined) return { kind: 'cluster', nodes: config.nodes.map(hostPortOf) };
  return { kind: 'standalone', url: config.url ?? '' };
}

/** `host:port` or `[v6]:port` (already checked by the schema). */
export function hostPortOf(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) };
}
