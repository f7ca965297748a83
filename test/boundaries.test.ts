/**
 * The import boundaries that `biome check` (in `npm test`) enforces, proved
 * to bite: each case lints a scratch tree with the repository's biome.json
 * and expects the rule's diagnostic. The repository itself passes them in
 * `npm test`'s `biome check .`.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIOME = new URL('../node_modules/.bin/biome', import.meta.url).pathname;
const CONFIG = new URL('../biome.json', import.meta.url).pathname;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'modgate-boundaries-'));
  await copyFile(CONFIG, join(root, 'biome.json'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `files` into a fresh folder of the scratch tree and returns the rule names biome reports, by file. */
async function lint(name: string, files: Record<string, string>): Promise<Record<string, string[]>> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await copyFile(CONFIG, join(dir, 'biome.json'));
  const out = await run(BIOME, ['lint', '--reporter=json', '.'], { cwd: dir }).then(
    (r) => r.stdout,
    (err: { stdout: string }) => err.stdout,
  );
  const report = JSON.parse(out) as { diagnostics: { category: string; location: { path: string } }[] };
  const found: Record<string, string[]> = {};
  for (const d of report.diagnostics) {
    found[d.location.path] = [...(found[d.location.path] ?? []), d.category];
  }
  return found;
}

const exporting = (from: string) => `import { x } from '${from}';\nexport const y = x;\n`;
const LEAF = 'export const x = 1;\n';

describe('import boundaries', () => {
  it('core/ imports nothing of the project outside core/', async () => {
    const found = await lint('core', {
      'core/a.ts': exporting('../gateway/leaf.ts'),
      'core/b.ts': exporting('./c.ts'),
      'core/c.ts': LEAF,
      'gateway/leaf.ts': LEAF,
    });
    expect(found).toEqual({ 'core/a.ts': ['lint/style/noRestrictedImports'] });
  });

  it.each(['auth', 'policies', 'sumdb', 'checksum'])('%s/ imports only itself and core/', async (room) => {
    const found = await lint(room, {
      [`${room}/deep/a.ts`]: exporting('../../gateway/leaf.ts'),
      [`${room}/deep/b.ts`]: exporting('../../core/leaf.ts'),
      [`${room}/c.ts`]: exporting('./deep/b.ts'),
      'core/leaf.ts': LEAF,
      'gateway/leaf.ts': LEAF,
    });
    expect(found).toEqual({ [`${room}/deep/a.ts`]: ['lint/style/noRestrictedImports'] });
  });

  it('checksum/ imports no package but node: built-ins and yauzl', async () => {
    const found = await lint('checksum-packages', {
      'checksum/a.ts': exporting('pino'),
      'checksum/b.ts': exporting('@types/yauzl'),
      'checksum/c.ts': exporting('yauzl'),
      'checksum/d.ts': exporting('node:fs'),
      'checksum/f.ts': exporting('node:stream/promises'),
      'checksum/deep/e.ts': exporting('../../core/leaf.ts'),
      'core/leaf.ts': LEAF,
    });
    expect(found).toEqual({
      'checksum/a.ts': ['lint/style/noRestrictedImports'],
      'checksum/b.ts': ['lint/style/noRestrictedImports'],
    });
  });

  it('the server imports nothing of client/; client/ imports nothing of the server', async () => {
    const found = await lint('client', {
      'gateway/pipeline/a.ts': exporting('../../client/leaf.ts'),
      'gateway/pipeline/b.ts': exporting('../../core/leaf.ts'),
      'client/a.ts': exporting('../gateway/pipeline/b.ts'),
      'client/leaf.ts': exporting('../auth/leaf.ts'),
      'bin/a.ts': exporting('../client/leaf.ts'),
      'auth/leaf.ts': LEAF,
      'core/leaf.ts': LEAF,
    });
    expect(found).toEqual({
      'gateway/pipeline/a.ts': ['lint/style/noRestrictedImports'],
      'client/a.ts': ['lint/style/noRestrictedImports'],
    });
  });

  it('bench/ and harness/ import no test/ code, harness/ no bench/ code', async () => {
    const found = await lint('harness', {
      'bench/a.ts': exporting('../test/support/leaf.ts'),
      'bench/b.ts': exporting('../harness/leaf.ts'),
      'harness/leaf.ts': exporting('../bench/c.ts'),
      'harness/d.ts': exporting('../test/support/leaf.ts'),
      'bench/c.ts': LEAF,
      'test/support/leaf.ts': LEAF,
    });
    expect(found).toEqual({
      'bench/a.ts': ['lint/style/noRestrictedImports'],
      'harness/leaf.ts': ['lint/style/noRestrictedImports'],
      'harness/d.ts': ['lint/style/noRestrictedImports'],
    });
  });

  it('an import cycle fails, type-only imports included', async () => {
    const found = await lint('cycle', {
      'gateway/a.ts': "import type { B } from './b.ts';\nexport interface A { b?: B }\n",
      'gateway/b.ts': "import type { A } from './a.ts';\nexport interface B { a?: A }\n",
    });
    expect(found).toEqual({
      'gateway/a.ts': ['lint/suspicious/noImportCycles'],
      'gateway/b.ts': ['lint/suspicious/noImportCycles'],
    });
  });
});
