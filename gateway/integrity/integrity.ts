import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isModgateError, ModgateError } from '../../core/errors.ts';
import type { BoundUpstream } from '../pipeline/route.ts';
import type { BodyRequest, CutShort, Trace } from '../upstreams/upstream.ts';
import type { HashedKind, ModuleRecords } from './module-records.ts';
import { sendKept, sendSpooled } from './send-file.ts';
import type { Spooled, VerifiedCache } from './verified-cache.ts';

/** The largest `.zip` and `.mod` the go command accepts (x/mod/zip MaxZipFile, MaxGoMod). */
export const MAX_BYTES: Readonly<Record<HashedKind, number>> = { zip: 500 << 20, mod: 16 << 20 };

/** What vouches for public modules: a verified checksum-database client. */
export interface ChecksumDatabase {
  readonly name: string;
  lookup(module: string, version: string): Promise<{ readonly zip: string; readonly mod: string }>;
}

/** go.sum hashes of spooled files: a `.mod` from its SHA-256, a `.zip` read from disk (x/mod dirhash). */
export interface Hashers {
  mod(sha256: string): string;
  zip(path: string, module: string, version: string): Promise<string>;
}

export interface IntegrityDeps {
  /** `enforce` refuses what does not verify; `warn` logs, audits and serves it. */
  readonly mode: 'enforce' | 'warn';
  readonly cache: VerifiedCache;
  readonly records: ModuleRecords;
  /** Undefined: no database configured, every module is pinned on first sight. */
  readonly sumdb: ChecksumDatabase | undefined;
  /** Modules pinned on first sight although their route is public (`integrity.pin`). */
  readonly pinned: (module: string) => boolean;
  readonly hashers: Hashers;
  readonly log: Logger;
  /** Counts one result (a metric). */
  readonly count: (file: HashedKind, result: IntegrityFacts['outcome'] | 'cached') => void;
  readonly now?: () => Date;
}

/** What the audit record says of a verified (or not) `.mod` / `.zip`. */
export interface IntegrityFacts {
  /** verified: hash matched; pinned: first sight of a pinned module; mismatch / unverified: served anyway (warn). */
  readonly outcome: 'verified' | 'pinned' | 'mismatch' | 'unverified';
  /** What the hash was checked against: the checksum database, a pin, an earlier verification, the cache. */
  readonly against: 'sumdb' | 'pin' | 'record' | 'cache' | 'none';
  readonly hash?: string;
  readonly expected?: string;
  readonly cached: boolean;
}

/** Who said the expected hash, in a mismatch's message (the checksum database: by its name). */
const FROM: Partial<Record<IntegrityFacts['against'], string>> = {
  pin: 'the first fetch',
  record: 'an earlier verification',
};

/** The expected hash of one file and where it came from; undefined hash: nothing to check against. */
interface Expectation {
  readonly hash: string | undefined;
  readonly against: IntegrityFacts['against'];
  /** A pin this fetch made (first sight). */
  readonly pinnedNow?: boolean;
}

/**
 * Serves `.mod` and `.zip` only once their bytes hash (go.sum `h1:`) to what
 * vouches for them: the checksum database for public modules, the hash first
 * seen for private ones. A body is spooled to disk while it arrives (never
 * held in memory), hashed, compared, kept in the verified cache and served
 * from there; nothing of it reaches the client before the comparison. Later
 * requests are served from the cache without asking the upstream.
 */
export class Integrity {
  readonly #deps: IntegrityDeps;

  constructor(deps: IntegrityDeps) {
    this.#deps = deps;
  }

  async serve(
    trace: Trace,
    request: BodyRequest,
    upstream: BoundUpstream,
    req: IncomingMessage,
    res: ServerResponse,
    /** Told what verifying found before the response is written (the audit record may be written as it closes). */
    found: (facts: IntegrityFacts) => void,
  ): Promise<CutShort> {
    const { cache } = this.#deps;
    const key = `${request.module}@${request.version}.${request.kind}`;
    const kept = await cache.find(key);
    if (kept) {
      const facts: IntegrityFacts = { outcome: 'verified', against: 'cache', cached: true };
      this.#deps.count(request.kind, 'cached');
      found(facts);
      return await sendKept(kept, request, req.method ?? 'GET', res);
    }
    // Nothing of a HEAD's body is sent: it is forwarded as before.
    if (req.method === 'HEAD') return upstream.serve(trace, request, req, res);
    const { sumdb } = this.#deps;
    const pin = upstream.private || this.#deps.pinned(request.module) || sumdb === undefined;
    const vouched = pin ? undefined : this.#lookup(sumdb, request);
    const spooled = await cache.spool(await upstream.fetchBody(trace, request), MAX_BYTES[request.kind]);
    let keptIt = false;
    try {
      const hash = await this.#hashOf(trace, request, spooled);
      const expected = pin ? await this.#pin(request, hash) : await this.#vouched(request, vouched);
      if (expected.hash !== undefined && expected.hash !== hash) {
        const facts = this.#mismatch(trace, request, hash, expected);
        found(facts);
        return await sendSpooled(spooled.path, spooled.size, request, res);
      }
      if (expected.hash === undefined) {
        // warn mode with nothing to check against (enforce threw): served, not kept.
        const facts: IntegrityFacts = { outcome: 'unverified', against: 'none', hash, cached: false };
        this.#deps.count(request.kind, 'unverified');
        found(facts);
        return await sendSpooled(spooled.path, spooled.size, request, res);
      }
      // A verified public file's record (first sight; the hash for when the database cannot be asked)
      // is written beside the answer, not before it: nothing waits for its flush to disk.
      const recorded = expected.against === 'pin' ? undefined : this.#record(trace, request, hash);
      await cache.keep(key, spooled);
      keptIt = true;
      const outcome = expected.pinnedNow ? 'pinned' : 'verified';
      const facts: IntegrityFacts = { outcome, against: expected.against, hash, cached: false };
      this.#deps.count(request.kind, outcome);
      const fresh = await cache.find(key);
      if (!fresh) throw new ModgateError('internal', `verified ${key} vanished from the cache`);
      found(facts);
      const cut = await sendKept(fresh, request, 'GET', res);
      await recorded;
      return cut;
    } finally {
      if (!keptIt) await cache.discard(spooled);
    }
  }

  /** The first-seen and pinned-hash records (for the admin API). */
  get records(): ModuleRecords {
    return this.#deps.records;
  }

  /**
   * Forgets what is pinned or verified of `module@version` (an operator's
   * decision, e.g. after a legitimate re-release): its record and its kept
   * files. The next fetch pins or verifies it again. True when there was a record.
   */
  async forget(module: string, version: string): Promise<boolean> {
    await Promise.all(['mod', 'zip'].map((kind) => this.#deps.cache.forget(`${module}@${version}.${kind}`)));
    return this.#deps.records.forget(module, version);
  }

  /** Records a verified hash; a failure is logged (the file was verified; only the fallback loses it). */
  async #record(trace: Trace, request: BodyRequest, hash: string): Promise<void> {
    try {
      await this.#deps.records.remember(request.module, request.version, request.kind, hash, this.#now());
    } catch (err) {
      this.#deps.log.warn(
        {
          err,
          event: 'integrity.record_failed',
          trace: trace.id,
          module: request.module,
          version: request.version,
        },
        `could not record the verified hash of ${request.module}@${request.version}`,
      );
    }
  }

  /** Starts the checksum-database lookup while the body arrives; its failure is read later. */
  #lookup(sumdb: ChecksumDatabase, request: BodyRequest): Promise<string> {
    const lookup = sumdb.lookup(request.module, request.version).then((hashes) => hashes[request.kind]);
    lookup.catch(() => undefined);
    return lookup;
  }

  /** The go.sum hash of the spooled file; a zip go would refuse is an integrity failure too. */
  async #hashOf(trace: Trace, request: BodyRequest, spooled: Spooled): Promise<string> {
    const { hashers } = this.#deps;
    if (request.kind === 'mod') return hashers.mod(spooled.sha256);
    try {
      return await hashers.zip(spooled.path, request.module, request.version);
    } catch (err) {
      if (!isModgateError(err, 'upstream.bad_response')) throw err;
      const message = `integrity check failed for ${request.module}@${request.version}: upstream sent a ${err.message}`;
      this.#failed(trace, request, message, { problem: err.message }, err);
      // warn mode too: a zip go would refuse is not served.
      throw err;
    }
  }

  /** A pinned module: the hash recorded first (by this fetch, when it is the first). */
  async #pin(request: BodyRequest, hash: string): Promise<Expectation> {
    const { module, version, kind } = request;
    const { record, added } = await this.#deps.records.remember(module, version, kind, hash, this.#now());
    return { hash: record[kind], against: 'pin', pinnedNow: added };
  }

  /** A public module: the checksum database's hash; while it cannot be asked, an earlier verification's. */
  async #vouched(request: BodyRequest, lookup: Promise<string> | undefined): Promise<Expectation> {
    const { sumdb } = this.#deps;
    if (!sumdb || !lookup) throw new ModgateError('internal', 'no checksum database to ask');
    const what = `${request.module}@${request.version}`;
    try {
      return { hash: await lookup, against: 'sumdb' };
    } catch (err) {
      if (isModgateError(err, 'upstream.not_found') || isModgateError(err, 'upstream.gone')) {
        throw new ModgateError(
          'integrity.unlisted',
          `${what} is not in checksum database ${sumdb.name}; if it is private, route it privately or list it under integrity.pin`,
          { cause: err },
        );
      }
      if (!isModgateError(err, 'sumdb.unavailable')) throw err;
      const record = await this.#deps.records.get(request.module, request.version);
      const hash = record?.[request.kind];
      if (hash !== undefined) return { hash, against: 'record' };
      if (this.#deps.mode === 'warn') return { hash: undefined, against: 'none' };
      throw new ModgateError(
        'integrity.unverifiable',
        `cannot verify ${what}: checksum database ${sumdb.name} is unreachable and this version was never verified here`,
        { cause: err },
      );
    }
  }

  /** Logs and counts a mismatch; refuses it in enforce mode, else resolves what the audit says of it. */
  #mismatch(trace: Trace, request: BodyRequest, hash: string, expected: Expectation): IntegrityFacts {
    const what = `${request.module}@${request.version}`;
    const file = request.kind === 'mod' ? `${what}/go.mod` : what;
    const from = FROM[expected.against] ?? this.#deps.sumdb?.name;
    const message = `integrity check failed for ${file}: upstream sent ${hash}, ${from} says ${expected.hash}`;
    this.#failed(trace, request, message, { hash, expected });
    return { outcome: 'mismatch', against: expected.against, hash, expected: expected.hash, cached: false };
  }

  /** Counts and logs an integrity failure; in enforce mode, refuses it with `integrity.mismatch`. */
  #failed(trace: Trace, request: BodyRequest, message: string, facts: object, cause?: unknown): void {
    const detail = { module: request.module, version: request.version, file: request.kind, ...facts };
    this.#deps.count(request.kind, 'mismatch');
    this.#deps.log.error({ event: 'integrity.mismatch', trace: trace.id, ...detail }, message);
    if (this.#deps.mode === 'enforce')
      throw new ModgateError('integrity.mismatch', message, { cause, detail });
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }
}
