import { BoundedMap } from '../../core/bounded-map.ts';
import { escapeVersion } from '../../core/gomod/module.ts';
import type { Trace } from '../upstreams/upstream.ts';
import { isMissing } from '../upstreams/upstream-errors.ts';
import type { BoundUpstream } from './route.ts';

/** modgate's own first-seen time of a module version (recorded now when it has none). */
export type FirstSeen = (module: string, version: string) => Promise<Date>;

/**
 * The publish time of module versions (the `Time` of the upstream's `.info`,
 * or modgate's first-seen time when that is later: a new tag on an old
 * commit has an old `Time`), for `min_age` rules. Remembered per upstream, module and version (an LRU of
 * bounded size); concurrent lookups of one version share one upstream request.
 * Unknown (no `.info`, no parsable `Time`) is `undefined`, which a `min_age`
 * rule treats as too young (fail closed).
 */
export class PublishTimes {
  readonly #known: BoundedMap<string, Date | undefined>;
  readonly #pending = new Map<string, Promise<Date | undefined>>();
  readonly #firstSeen: FirstSeen | undefined;

  /** Neither a `.info` Time nor a first-seen time changes, so entries do not expire; the oldest-used go first. */
  constructor(maxEntries: number, firstSeen?: FirstSeen) {
    this.#known = new BoundedMap(maxEntries);
    this.#firstSeen = firstSeen;
  }

  get size(): number {
    return this.#known.size;
  }

  async of(
    trace: Trace,
    upstream: Pick<BoundUpstream, 'name' | 'fetchText'>,
    module: string,
    escapedModule: string,
    version: string,
  ) {
    const key = `${upstream.name}\0${module}\0${version}`;
    if (this.#known.has(key)) return this.#known.use(key);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = upstream
        .fetchText(trace, {
          kind: 'info',
          module,
          escapedModule,
          version,
          escapedVersion: escapeVersion(version),
        })
        .then(timeOf, (err: unknown) => {
          if (isMissing(err)) return undefined;
          throw err;
        })
        .then((time) => (time ? this.#later(time, module, version) : undefined))
        .then((time) => {
          // Only a known time is remembered: a missing .info may appear later.
          if (time) this.#remember(key, time);
          return time;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** The later of the upstream's time and modgate's first sight (a record write the first time). */
  async #later(time: Date, module: string, version: string): Promise<Date> {
    if (!this.#firstSeen) return time;
    const seen = await this.#firstSeen(module, version);
    return seen > time ? seen : time;
  }

  #remember(key: string, time: Date): void {
    this.#known.set(key, time);
  }
}

/** The `Time` of a `.info` document, or undefined when absent or unparsable. */
function timeOf(infoJson: string): Date | undefined {
  try {
    const info = JSON.parse(infoJson) as { Time?: unknown };
    if (typeof info.Time !== 'string') return undefined;
    const time = new Date(info.Time);
    return Number.isNaN(time.getTime()) ? undefined : time;
  } catch {
    return undefined;
  }
}
