/**
 * checksum/zip-hash.ts on what the differential test does not reach: the
 * size limits (made small here), and the arguments.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ZipLimits, zipHash } from '../checksum/zip-hash.ts';
import { isModgateError } from '../core/errors.ts';
import { writeModuleVersion } from '../gateway/protocol/goproxy-folder.ts';

let tmp: string;
let zipPath: string;
const MODULE = 'example.com/limits';
const VERSION = 'v1.0.0';
const GO_MOD = `module ${MODULE}\n\ngo 1.19\n`;
/** Compresses well, so the content outgrows the zip file. */
const LICENSE = 'x'.repeat(5000);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-checksum-zip-'));
  const written = await writeModuleVersion(tmp, {
    path: MODULE,
    version: VERSION,
    goMod: GO_MOD,
    files: { LICENSE, 'a.go': 'package a\n' },
  });
  zipPath = written.zipPath;
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function refusal(limits: ZipLimits, module = MODULE, version = VERSION): Promise<unknown> {
  return zipHash(zipPath, module, version, limits).then(
    (hash) => hash,
    (err: unknown) => err,
  );
}

describe('zipHash limits', () => {
  it('accepts the zip within every limit', async () => {
    expect(await zipHash(zipPath, MODULE, VERSION)).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
    const exact = { maxGoMod: GO_MOD.length, maxLicense: LICENSE.length };
    expect(await zipHash(zipPath, MODULE, VERSION, exact)).toBe(await zipHash(zipPath, MODULE, VERSION));
  });

  it.each([
    [
      { maxGoMod: GO_MOD.length - 1 },
      `zip for ${MODULE}@${VERSION} has a go.mod over ${GO_MOD.length - 1} bytes`,
    ],
    [{ maxLicense: 4999 }, `zip for ${MODULE}@${VERSION} has a LICENSE over 4999 bytes`],
    [{ maxZipFile: 120 }, new RegExp(`^zip for ${MODULE}@${VERSION} is \\d+ bytes, over the limit of 120$`)],
  ] as const)('refuses past %o', async (limits, message) => {
    const err = await refusal(limits);
    expect(isModgateError(err, 'upstream.bad_response')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('counts the total of the declared uncompressed sizes against maxZipFile', async () => {
    const { size } = await stat(zipPath);
    // The file fits; its content (go.mod, LICENSE, a.go) does not.
    const limit = size + 10;
    expect(limit).toBeLessThan(GO_MOD.length + LICENSE.length);
    const err = await refusal({ maxZipFile: limit });
    expect(isModgateError(err, 'upstream.bad_response')).toBe(true);
    expect((err as Error).message).toBe(
      `zip for ${MODULE}@${VERSION} holds more than ${limit} bytes uncompressed`,
    );
  });

  it('refuses the zip of another version as naming unexpected files', async () => {
    const err = await refusal({}, MODULE, 'v1.0.1');
    expect((err as Error).message).toBe(
      `zip for ${MODULE}@v1.0.1 has unexpected file "${MODULE}@${VERSION}/go.mod"`,
    );
  });

  it('refuses an invalid module path or a non-canonical version as request.invalid_path', async () => {
    expect(isModgateError(await refusal({}, 'Example.com/x'), 'request.invalid_path')).toBe(true);
    expect(isModgateError(await refusal({}, MODULE, 'v1.0'), 'request.invalid_path')).toBe(true);
  });
});
