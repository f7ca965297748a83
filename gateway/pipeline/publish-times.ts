import { BoundedMap } from '../../core/bounded-map.ts';
import { escapeVersion } from '../../core/gomod/module.ts';
import type { Trace } from '../upstreams/upstream.ts';
import { isMissing } from '../upstreams/upstream-errors.ts';
import type { BoundUpstream } from './route.ts';

/**
 * The publish time of module versions (the `Time` of the upstream's `.info`),
 * for `min_age` rules. Remembered per upstream, module and version (an LRU of
 * bounded size); concurrent lookups of one version share one upstream request.
 * Unknown (no `.info`, no parsable `Time`) is `undefined`, which a `min_age`
 * rule treats as too young (fail closed).
 */
export class PublishTimes {
  readonly #known: BoundedMap<string, Date | undefined>;
  readonly #pending = new Map<string, Promise<Date | undefined>>();

  /** A `.info` Time never changes, so entries do not expire; the oldest-used go first. */
  constructor(maxEntries: number) {
    this.#known = new BoundedMap(maxEntries);
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
