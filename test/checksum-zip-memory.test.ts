/**
 * zipHash streams: hashing a ~200 MB module zip (stored entries, so every
 * byte passes through SHA-256 and CRC-32) grows a child process's resident
 * set by less than 50 MB (after a 16 MB warm-up, see
 * support/zip-hash-rss.ts), and gives x/mod's hash.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { startXmodOracle, type XmodOracle } from './support/xmod-oracle.ts';

const run = promisify(execFile);
const CHILD = new URL('./support/zip-hash-rss.ts', import.meta.url).pathname;

/** Size of the generated zip (bytes). */
const ZIP_BYTES = 200 * 1024 * 1024;
/** Size of the warm-up zip (bytes). */
const WARM_UP_BYTES = 16 * 1024 * 1024;
/** Most the resident set may grow while hashing it (bytes). */
const MAX_GROWTH_BYTES = 50 * 1024 * 1024;

const MODULE = 'example.com/large';
const WARM_UP_MODULE = 'example.com/warm';
const VERSION = 'v1.0.0';

let tmp: string;
let zipPath: string;
let warmUpPath: string;
let oracle: XmodOracle;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-zip-memory-'));
  [zipPath, warmUpPath, oracle] = await Promise.all([
    writeLargeZip(tmp, MODULE, VERSION, ZIP_BYTES).then((w) => w.zipPath),
    writeLargeZip(tmp, WARM_UP_MODULE, VERSION, WARM_UP_BYTES).then((w) => w.zipPath),
    startXmodOracle(),
  ]);
}, 60_000);

afterAll(async () => {
  await oracle?.close();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe('zipHash memory', () => {
  it(`hashes a ${ZIP_BYTES >> 20} MB zip with under ${MAX_GROWTH_BYTES >> 20} MB of resident growth`, async () => {
    const { stdout } = await run(
      process.execPath,
      [CHILD, warmUpPath, WARM_UP_MODULE, zipPath, MODULE, VERSION],
      { timeout: 20_000 },
    );
    const { hash, growth } = JSON.parse(stdout) as { hash: string; growth: number };
    expect(growth).toBeLessThan(MAX_GROWTH_BYTES);
    const [want] = await oracle.ask([{ op: 'zipHash', a: zipPath, b: `${MODULE}@${VERSION}` }]);
    expect(want).toEqual({ out: [hash] });
  }, 30_000);
});
