import type { Logger } from 'pino';
import { hash1 } from '../../checksum/h1.ts';
import { zipHash } from '../../checksum/zip-hash.ts';
import { matchPrefixPatterns } from '../../core/gomod/module.ts';
import { SumdbClient } from '../../sumdb/client.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { FirstSeen } from '../pipeline/publish-times.ts';
import { type DurableRecords, FileRecords } from '../state/durable.ts';
import { RedisRecords } from '../state/durable-redis.ts';
import type { StateSettings } from '../state/settings.ts';
import { type IntegrityConfig, sizeBytes } from './config.ts';
import { Integrity } from './integrity.ts';
import { ModuleRecords } from './module-records.ts';
import { HttpSumdbTransport, treeHeadStore } from './sumdb-transport.ts';
import { VerifiedCache } from './verified-cache.ts';

/** The integrity stage and what closes it; none when `integrity.mode` is off. */
export interface OpenedIntegrity {
  readonly integrity: Integrity | undefined;
  /** modgate's first-seen time of a version, for `min_age` (`integrity.first_seen_cooldown`). */
  readonly firstSeen?: FirstSeen | undefined;
  close(): Promise<void>;
}

/**
 * Opens what the integrity stage needs: the verified cache, the durable
 * records (Redis when the state store is Redis, else a folder), and the
 * checksum-database client whose accepted tree head is kept there too.
 */
export async function openIntegrity(
  config: IntegrityConfig,
  state: StateSettings,
  log: Logger,
  metrics: Metrics,
): Promise<OpenedIntegrity> {
  if (config.mode === 'off') return { integrity: undefined, close: async () => {} };
  const durable: DurableRecords =
    state.kind === 'redis'
      ? await RedisRecords.open({ ...state.redis, logger: log })
      : await FileRecords.open(config.records_dir);
  const closers: (() => Promise<void>)[] = [() => durable.close()];
  try {
    const cache = await VerifiedCache.open(config.cache.dir, sizeBytes(config.cache.max_size));
    const db = config.checksum_database;
    const transport = new HttpSumdbTransport(db.name, new URL(db.url ?? `https://${db.name}`));
    closers.push(() => transport.close());
    const client = new SumdbClient({
      name: db.name,
      verifierKey: db.key,
      transport,
      treeHeads: treeHeadStore(durable, db.name),
    });
    const pins = config.pin.join(',');
    const integrity = new Integrity({
      mode: config.mode,
      cache,
      records: new ModuleRecords(durable),
      sumdb: client,
      pinned: (module) => pins !== '' && matchPrefixPatterns(pins, module),
      hashers: {
        mod: (sha256) => hash1([{ name: 'go.mod', sha256 }]),
        zip: (path, module, version) => zipHash(path, module, version),
      },
      log: log.child({ stream: 'integrity' }),
      count: (file, result) => metrics.integrity(file, result),
    });
    const records = integrity.records;
    const firstSeen: FirstSeen | undefined = config.first_seen_cooldown
      ? async (module, version) => new Date((await records.seen(module, version, new Date())).firstSeen)
      : undefined;
    return { integrity, firstSeen, close: () => closeAll(closers) };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.reverse()) await close().catch(() => undefined);
}
