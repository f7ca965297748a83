/**
 * Differential test of checksum/zip-hash.ts against Go's own x/mod 0.7.0
 * (zip.CheckZip, then dirhash.HashZip through archive/zip), built once with
 * go 1.19 and once with the current go, whose archive/zip differ: random
 * module zips written with yazl, good and broken, then corrupted
 * (truncated, bytes flipped, header fields changed). modgate must accept
 * exactly the zips both generations accept, with their hash, and refuse the
 * others with ModgateError upstream.bad_response, never another error, never
 * leaving the file open. Where the generations differ (go 1.26 refuses
 * content in a directory entry, and a directory whose end record puts it
 * before its offset; go 1.19 reads both), modgate follows the one that refuses.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipHash } from '../checksum/zip-hash.ts';
import { isModgateError } from '../core/errors.ts';
import { CLIENT_GOS } from '../harness/go.ts';
import { startXmodOracle, type XmodOracle } from './support/xmod-oracle.ts';
import { buildZip, corrupt, corruption, ZIP_MODULES, zipSpec } from './support/zip-arbitrary.ts';

/** Fixed seed so a failure reproduces. */
const SEED = 20261207;
/** Generated zips. */
const RUNS = 200;

/** One oracle per go generation on the machine. */
let oracles: XmodOracle[] = [];
let dir: string;
beforeAll(async () => {
  [oracles, dir] = await Promise.all([
    Promise.all(CLIENT_GOS.map((go) => startXmodOracle(go))),
    mkdtemp(join(tmpdir(), 'modgate-zip-xmod-')),
  ]);
});
afterAll(async () => {
  await Promise.all(oracles.map((o) => o.close()));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** modgate's answer: the hash, or the refusal's message (after checking it is the right kind). */
async function modgate(
  file: string,
  path: string,
  version: string,
): Promise<{ hash?: string; refused?: string; stricter?: boolean }> {
  try {
    return { hash: await zipHash(file, path, version) };
  } catch (err) {
    if (!isModgateError(err, 'upstream.bad_response')) throw err;
    expect(err.message).toContain(`${path}@${version}`);
    expect(err.message).not.toContain('\n');
    const cause = err.cause instanceof Error ? err.cause.message : '';
    return { refused: err.message, stricter: YAUZL_STRICTER.some((r) => r.test(cause)) };
  }
}

/**
 * Where yauzl is stricter than archive/zip and refuses a zip the go command
 * would take: a non-zero disk number, trailing bytes after the end record's
 * comment, the strong-encryption flag (Go ignores it and checks the CRC), an
 * extra field that overruns its block (Go stops parsing extra fields there),
 * and a deflated entry whose declared compressed size runs past the end of
 * the file (Go stops reading where the deflate stream ends). Zips written by
 * Go's module zip writer have none of these, so modgate refusing them is the
 * safe side; the test allows exactly these refusals of zips x/mod accepts,
 * recognised by yauzl's message on the cause.
 */
const YAUZL_STRICTER = [
  /multi-disk zip files are not supported/,
  /Invalid comment length/,
  /strong encryption is not supported/,
  /extra field length exceeds extra field buffer size/,
  /file data overflows file bounds/,
];

/** At most this share of the runs may be {@link YAUZL_STRICTER} refusals, or the corruptions miss their target. */
const MAX_STRICTER_SHARE = 0.1;

const openFiles = async () => (await readdir('/proc/self/fd')).length;

describe('zipHash against x/mod zip.CheckZip + dirhash.HashZip on go 1.19 and the current go', () => {
  it(`agrees on ${RUNS} generated and corrupted zips`, async () => {
    const before = await openFiles();
    let n = 0;
    const tally = { accepted: 0, refused: 0, generationsDiffer: 0, stricter: 0 };
    await fc.assert(
      fc.asyncProperty(zipSpec, corruption, async (spec, c) => {
        const { path, version } = ZIP_MODULES[spec.module]!;
        const file = join(dir, `z${n++}.zip`);
        await writeFile(file, corrupt(await buildZip(spec), c));
        const answers = await Promise.all(
          oracles.map(async (o) => (await o.ask([{ op: 'zipHash', a: file, b: `${path}@${version}` }]))[0]!),
        );
        const got = await modgate(file, path, version);
        const accepted = answers.filter((a) => a.err === undefined);
        const why = answers.map((a, i) => `${CLIENT_GOS[i]!.version}: ${a.err ?? a.out[0]}`).join('; ');
        if (accepted.length === answers.length && got.stricter === true) {
          tally.stricter++;
        } else if (accepted.length === answers.length) {
          expect(new Set(accepted.map((a) => a.out[0])).size, why).toBe(1);
          expect(got, why).toEqual({ hash: accepted[0]!.out[0] });
          tally.accepted++;
        } else {
          expect(got.hash, why).toBeUndefined();
          if (accepted.length > 0) tally.generationsDiffer++;
          else tally.refused++;
        }
        await rm(file);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(CLIENT_GOS).toHaveLength(2);
    // Both outcomes must be well represented, or the generator has drifted.
    expect(tally.accepted).toBeGreaterThan(RUNS / 10);
    expect(tally.refused).toBeGreaterThan(RUNS / 10);
    expect(tally.stricter).toBeLessThanOrEqual(RUNS * MAX_STRICTER_SHARE);
    await new Promise((r) => setTimeout(r, 50));
    expect(await openFiles()).toBeLessThanOrEqual(before);
  }, 120_000);
});
