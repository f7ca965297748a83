import { ModgateError } from '../../core/errors.ts';
import type { DurableRecords } from '../state/durable.ts';

/** The file kinds whose go.sum hashes are recorded. */
export type HashedKind = 'mod' | 'zip';

/**
 * What modgate knows of one module version for good: when it first saw it
 * (any fetch, public or private) and the go.sum hashes (`h1:`) of the `.mod`
 * and `.zip` it verified or, for private modules, pinned on first sight.
 */
export interface ModuleRecord {
  /** ISO 8601 time of the first fetch through modgate. */
  readonly firstSeen: string;
  readonly mod?: string;
  readonly zip?: string;
}

/** Compare-and-set rounds before a record write gives up (other processes keep winning). */
const MAX_ROUNDS = 8;
const PREFIX = 'module/';

/**
 * Module records in the durable store (a folder, or Redis with persistence),
 * shared by every gateway process. A hash, once recorded, is never replaced
 * by `remember`: the first one wins, and a later different one is the
 * caller's mismatch to refuse. Only `forget` (an operator's) removes a record.
 */
export class ModuleRecords {
  readonly #records: DurableRecords;

  constructor(records: DurableRecords) {
    this.#records = records;
  }

  get kind(): DurableRecords['kind'] {
    return this.#records.kind;
  }

  async get(module: string, version: string): Promise<ModuleRecord | undefined> {
    const raw = await this.#records.get(keyOf(module, version));
    return raw === undefined ? undefined : parse(raw, module, version);
  }

  /** Records that `module@version` was seen now, unless it was seen before; resolves the record as it stands. */
  seen(module: string, version: string, now: Date): Promise<ModuleRecord> {
    return this.#update(module, version, (old) => old ?? { firstSeen: now.toISOString() });
  }

  /**
   * Records `hash` as the `kind` hash of `module@version` (and the first-seen
   * time, if new) unless a hash is recorded already. Resolves the record as
   * it stands (its `kind` hash differs from `hash` when another came first)
   * and whether this call recorded the hash.
   */
  async remember(
    module: string,
    version: string,
    kind: HashedKind,
    hash: string,
    now: Date,
  ): Promise<{ record: ModuleRecord; added: boolean }> {
    let added = false;
    const record = await this.#update(module, version, (old) => {
      const base = old ?? { firstSeen: now.toISOString() };
      added = base[kind] === undefined;
      return added ? { ...base, [kind]: hash } : base;
    });
    return { record, added };
  }

  /** Removes the record; true when there was one. */
  forget(module: string, version: string): Promise<boolean> {
    return this.#records.delete(keyOf(module, version));
  }

  /** `module@version` names with a record, sorted, those of modules under `modulePrefix` (all when empty). */
  async list(modulePrefix: string, limit: number): Promise<string[]> {
    const keys = await this.#records.list(PREFIX + modulePrefix, limit);
    return keys.map((k) => k.slice(PREFIX.length));
  }

  async #update(
    module: string,
    version: string,
    next: (old: ModuleRecord | undefined) => ModuleRecord,
  ): Promise<ModuleRecord> {
    const key = keyOf(module, version);
    let raw = await this.#records.get(key);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const old = raw === undefined ? undefined : parse(raw, module, version);
      const record = next(old);
      if (old !== undefined && sameRecord(old, record)) return old;
      const swap = await this.#records.compareAndSet(key, raw, JSON.stringify(record));
      if (swap.swapped) return record;
      raw = swap.current;
    }
    throw new ModgateError(
      'state.unavailable',
      `the record of ${module}@${version} kept changing under concurrent writers`,
    );
  }
}

function keyOf(module: string, version: string): string {
  return `${PREFIX}${module}@${version}`;
}

function sameRecord(a: ModuleRecord, b: ModuleRecord): boolean {
  return a.firstSeen === b.firstSeen && a.mod === b.mod && a.zip === b.zip;
}

function parse(raw: string, module: string, version: string): ModuleRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const record = value as Partial<Record<keyof ModuleRecord, unknown>> | undefined;
  const text = (v: unknown) => v === undefined || typeof v === 'string';
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.firstSeen !== 'string' ||
    !text(record.mod) ||
    !text(record.zip)
  ) {
    // Never guess over a damaged record: it pins what may be served.
    throw new ModgateError('state.unavailable', `the record of ${module}@${version} is damaged`);
  }
  return record as ModuleRecord;
}
