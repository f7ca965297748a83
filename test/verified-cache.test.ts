/**
 * The verified-bytes cache (gateway/integrity/verified-cache.ts): bodies are
 * spooled to disk while hashed, kept content-addressed, checked on every
 * read (a changed file never reaches a reader whole), bounded in size with
 * the least recently used evicted first, and shared by several processes
 * through one folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { ChangedOnDisk } from '../gateway/integrity/checked-read.ts';
import { type KeptFile, VerifiedCache } from '../gateway/integrity/verified-cache.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-verified-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A body of `size` bytes arriving in chunks of at most 4 KiB. */
function body(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
  return Readable.from(chunks);
}

/** Reads a kept file to its end: the bytes that came out, and the error that ended it, if any. */
async function readAll(file: KeptFile): Promise<{ bytes: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of file.read()) parts.push(chunk as Buffer);
    return { bytes: Buffer.concat(parts), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error };
  }
}

async function keepBytes(cache: VerifiedCache, key: string, bytes: Buffer): Promise<void> {
  await cache.keep(key, await cache.spool(body(bytes), 1 << 30));
}

describe('VerifiedCache', () => {
  it('gives back what was kept, byte for byte, and nothing for a key never kept', async () => {
    const cache = await VerifiedCache.open(dir, 1 << 30);
    const zip = randomBytes(100_000);
    await keepBytes(cache, 'example.org/m@v1.0.0.zip', zip);
    const found = await cache.find('example.org/m@v1.0.0.zip');
    expect(found?.size).toBe(zip.length);
    const read = await readAll(found!);
    expect(read.error).toBeUndefined();
    expect(read.bytes.equals(zip)).toBe(true);
    expect(await cache.find('example.org/m@v1.0.1.zip')).toBeUndefined();
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses a body over the limit and leaves no file behind', async () => {
    const cache = await VerifiedCache.open(dir, 1 << 30);
    const err = await cache.spool(body(randomBytes(10_000)), 9_999).catch((e: unknown) => e);
    expect(isModgateError(err, 'upstream.bad_response')).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('never hands out the whole of a file changed on disk, and forgets it', async () => {
    const cache = await VerifiedCache.open(dir, 1 << 30);
    const zip = randomBytes(200_000);
    await keepBytes(cache, 'example.org/m@v1.0.0.zip', zip);
    const [blob] = await readdir(join(dir, 'blobs'));
    const changed = Buffer.from(zip);
    changed[150_000] = (changed[150_000]! + 1) % 256;
    await writeFile(join(dir, 'blobs', blob!), changed);
    const read = await readAll((await cache.find('example.org/m@v1.0.0.zip'))!);
    expect(read.error).toBeInstanceOf(ChangedOnDisk);
    expect(read.bytes.length).toBeLessThan(zip.length);
    await new Promise((r) => setTimeout(r, 50));
    expect(await cache.find('example.org/m@v1.0.0.zip')).toBeUndefined();
    expect(await readdir(join(dir, 'blobs'))).toEqual([]);
  });

  it('evicts the least recently used once over its size, keeping what was just used', async () => {
    const cache = await VerifiedCache.open(dir, 4_000);
    const now = Date.now() / 1000;
    const files = ['a', 'b', 'c', 'd'].map((k) => ({
      key: `example.org/${k}@v1.0.0.zip`,
      bytes: randomBytes(1_000),
    }));
    for (const f of files) await keepBytes(cache, f.key, f.bytes);
    // Last used in this order: a, b, c, d (100 s apart).
    for (const [i, f] of files.entries()) {
      const sha = createHash('sha256').update(f.bytes).digest('hex');
      await utimes(join(dir, 'blobs', sha), now - 400 + i * 100, now - 400 + i * 100);
    }
    const a = await cache.find(files[0]!.key);
    await a!.close();
    await keepBytes(cache, 'example.org/e@v1.0.0.zip', randomBytes(1_000));
    const present = async (key: string) => {
      const f = await cache.find(key);
      await f?.close();
      return f !== undefined;
    };
    expect(await present(files[0]!.key)).toBe(true);
    expect(await present(files[1]!.key)).toBe(false);
    expect(await present(files[2]!.key)).toBe(false);
    expect(await present(files[3]!.key)).toBe(true);
    expect(await present('example.org/e@v1.0.0.zip')).toBe(true);
    expect(await readdir(join(dir, 'index'))).toHaveLength(3);
  });

  it('is shared by two processes on one folder; a file open in one survives eviction by the other', async () => {
    const one = await VerifiedCache.open(dir, 3_000);
    const two = await VerifiedCache.open(dir, 3_000);
    const zip = randomBytes(2_000);
    await keepBytes(one, 'example.org/m@v1.0.0.zip', zip);
    const open = await two.find('example.org/m@v1.0.0.zip');
    expect(open).toBeDefined();
    // The other process keeps more than fits: the first file is the oldest and goes.
    await keepBytes(one, 'example.org/n@v1.0.0.zip', randomBytes(2_000));
    expect(await readdir(join(dir, 'blobs'))).toHaveLength(1);
    const read = await readAll(open!);
    expect(read.error).toBeUndefined();
    expect(read.bytes.equals(zip)).toBe(true);
  });

  it('evicts at open when the folder holds more than the limit', async () => {
    const big = await VerifiedCache.open(dir, 1 << 30);
    for (const k of ['a', 'b', 'c']) await keepBytes(big, `example.org/${k}@v1.0.0.mod`, randomBytes(1_000));
    await VerifiedCache.open(dir, 1_500);
    expect(await readdir(join(dir, 'blobs'))).toHaveLength(1);
    expect(await readdir(join(dir, 'index'))).toHaveLength(1);
  });
});
