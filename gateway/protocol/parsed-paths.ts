import { BoundedMap } from '../../core/bounded-map.ts';
import { type GoproxyRequest, parseGoproxyPath } from './goproxy-path.ts';

/** Most parsed paths remembered (entries; each at most MAX_REQUEST_PATH_BYTES of key). */
export const PARSED_PATHS_MAX_ENTRIES = 4_096;

/**
 * parseGoproxyPath with a memory of recent valid paths: a build asks for the
 * same modules again and again (every developer and CI job), and the x/mod
 * checks were ~3 % of a request's CPU in the bench profile. Results are
 * frozen and shared; invalid paths are not remembered (they throw every time).
 * Oldest-first eviction keeps it bounded.
 */
export class ParsedPaths {
  readonly #entries: BoundedMap<string, GoproxyRequest>;

  constructor(maxEntries = PARSED_PATHS_MAX_ENTRIES) {
    this.#entries = new BoundedMap(maxEntries);
  }

  parse(rawPathWithoutQuery: string): GoproxyRequest {
    const known = this.#entries.get(rawPathWithoutQuery);
    if (known !== undefined) return known;
    const parsed = deepFreeze(parseGoproxyPath(rawPathWithoutQuery));
    this.#entries.set(rawPathWithoutQuery, parsed);
    return parsed;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function deepFreeze(request: GoproxyRequest): GoproxyRequest {
  if (request.kind === 'sumdb' && request.lookup !== undefined) Object.freeze(request.lookup);
  return Object.freeze(request);
}
