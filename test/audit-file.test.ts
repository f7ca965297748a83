import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAuditFile } from '../gateway/ops/audit-file.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (i: number) => `${JSON.stringify({ n: i, pad: 'x'.repeat(80) })}\n`;

describe('audit file rotation', () => {
  it('rotates by size, keeps N files, and loses or splits no line', async () => {
    const path = join(dir, 'audit.log');
    const file = await openAuditFile(path, 1_000, 2);
    for (let i = 0; i < 50; i++) {
      file.write(line(i));
      await file.ready(); // as between requests: the new file opens while traffic goes on
    }
    await file.close();
    expect((await readdir(dir)).sort()).toEqual(['audit.log', 'audit.log.1', 'audit.log.2']);
    const texts = await Promise.all(
      ['audit.log.2', 'audit.log.1', 'audit.log'].map((f) => readFile(join(dir, f), 'utf8')),
    );
    const numbers = texts.flatMap((t) =>
      t
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { n: number }).n),
    );
    // Only the newest files are kept; what is kept is whole lines, in order, ending with the last one.
    expect(numbers.at(-1)).toBe(49);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    // A file passes the limit at most by what was still buffered when it rotated.
    for (const t of texts) expect(Buffer.byteLength(t)).toBeLessThan(4 * 1_000);
  });

  it('reopen() follows an external logrotate', async () => {
    const path = join(dir, 'audit.log');
    const file = await openAuditFile(path, 0, 0);
    file.write(line(1));
    file.flushSync();
    await rename(path, `${path}.old`);
    file.reopen();
    file.write(line(2));
    await file.ready();
    file.flushSync();
    expect(await readFile(`${path}.old`, 'utf8')).toBe(line(1));
    expect(await readFile(path, 'utf8')).toBe(line(2));
  });
});
