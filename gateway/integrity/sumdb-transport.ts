import { Pool } from 'undici';
import { isModgateError, ModgateError } from '../../core/errors.ts';
import { readBounded } from '../../core/read-bounded.ts';
import type { DurableRecords } from '../state/durable.ts';

/** Largest answer a checksum database sends: a full tile is 8 KiB, a lookup well under 1 KiB. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Time for one checksum-database request, connection included (ms). */
const TIMEOUT_MS = 10_000;

/**
 * Asks a checksum database over HTTP(S) for `latest`, `lookup/…` and
 * `tile/…` below its URL (https://sum.golang.org, or an upstream's
 * `/sumdb/<name>` proxy). Failures to ask are `sumdb.unavailable`; a lookup
 * the database does not hold (404/410) is `upstream.not_found` (a missing
 * tile is not: that is the database failing, `sumdb.unavailable`).
 */
export class HttpSumdbTransport {
  readonly #pool: Pool;
  readonly #base: string;
  readonly #name: string;

  constructor(name: string, url: URL) {
    this.#name = name;
    this.#pool = new Pool(url.origin, {
      connections: 8,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      connect: { timeout: TIMEOUT_MS },
    });
    this.#base = url.pathname.replace(/\/+$/, '');
  }

  async get(path: string): Promise<Buffer> {
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    try {
      const { statusCode, body } = await this.#pool.request({
        path: `${this.#base}/${path}`,
        method: 'GET',
        signal,
      });
      // Only a lookup's 404/410 means "no such module version"; a missing tile or head is a database failing.
      if ((statusCode === 404 || statusCode === 410) && path.startsWith('lookup/')) {
        await body.dump();
        throw new ModgateError('upstream.not_found', `checksum database ${this.#name} has no ${path}`);
      }
      if (statusCode !== 200) {
        await body.dump();
        throw this.#unavailable(`answered ${statusCode} for ${path}`);
      }
      const read = await readBounded(body, MAX_ANSWER_BYTES, 'destroy');
      if (read.over)
        throw new ModgateError(
          'sumdb.bad_response',
          `checksum database ${this.#name} sent an oversized ${path}`,
        );
      return read.bytes;
    } catch (err) {
      if (isModgateError(err)) throw err;
      throw this.#unavailable(`could not be asked for ${path}`, err);
    }
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }

  #unavailable(what: string, cause?: unknown): ModgateError {
    return new ModgateError('sumdb.unavailable', `checksum database ${this.#name} ${what}`, { cause });
  }
}

/** The last tree head a checksum database client accepted, kept in the durable records (shared, survives restarts). */
export function treeHeadStore(records: DurableRecords, name: string) {
  const key = `sumdb/${name}/latest`;
  return {
    load: () => records.get(key),
    compareAndSet: (expected: string | undefined, next: string) => records.compareAndSet(key, expected, next),
  };
}
