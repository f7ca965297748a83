import type { z } from 'zod';
import { isModgateError } from '../../core/errors.ts';
import { secretAt } from '../config/secrets.ts';
import { type StateConfig, stateConfigSchema } from './config.ts';
import { parseSealingKey, randomSealer, ValueSealer } from './crypto.ts';
import { MemoryStore, type StateLogger } from './memory-store.ts';
import type { HostPort, RedisStoreOptions, RedisTopology } from './redis-options.ts';
import { RedisStore } from './redis-store.ts';
import type { StateStore } from './store.ts';

/** Resolves a secret reference found at `keys` (the full key path, `state` first). */
export type ResolveSecret = (ref: string, keys: string[]) => string;

/**
 * Turns validated `state:` config into settings, resolving every secret
 * through `secret`. Throws `config.invalid` (naming the key, never the value)
 * for encryption keys that are not 32 bytes.
 */
export function stateSettings(config: StateConfig, secret: ResolveSecret) {
  const sealingKeys = (config.encryption?.keys ?? []).map(({ id, key }, i) => {
    const keys = ['state', 'encryption', 'keys', String(i), 'key'];
    return { id, key: parseSealingKey(secret(key, keys), keys.join('.')) };
  });
  if (config.kind === 'memory')
    return { kind: 'memory' as const, maxEntries: config.max_entries, sealingKeys };
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
  return { kind: 'redis' as const, redis, sealingKeys };
}

/**
 * `state:` with secrets resolved: what `openStateStore` needs. An encryption
 * key that is not 32 bytes is a problem at `state.encryption` (the message
 * names the key), and the rest of the section is then left unresolved.
 */
export const stateSettingsSchema = stateConfigSchema.transform((config, ctx) => {
  try {
    return stateSettings(config, (ref, keys) => secretAt(ctx, ref, keys.slice(1)));
  } catch (err) {
    if (!isModgateError(err)) throw err;
    ctx.addIssue({ code: 'custom', path: ['encryption'], message: err.message });
    return { kind: 'memory' as const, maxEntries: 1, sealingKeys: [] };
  }
});

export type StateSettings = Readonly<z.output<typeof stateSettingsSchema>>;

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
