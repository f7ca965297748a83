/**
 * harness/go-sumdb is a checksum database the real go command accepts:
 * each go generation (CLIENT_GOS: the machine's current go and Debian's
 * 1.19), with `GOSUMDB="<name>+<key> <url>"` and a file:// GOPROXY of the
 * fixture modules, downloads through it, writes go.sum lines equal to the
 * harness's records, refuses the harness when it lies about a record or
 * serves tiles that do not hash up, and reports a SECURITY ERROR when it
 * serves a head of its second log after go accepted one of the first.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_GOS, initModule, makeGoEnv, runGo } from '../harness/go.ts';
import { type GoSumdb, startGoSumdb } from '../harness/go-sumdb.ts';
import { type FixtureSet, writeFixtureModules } from './support/modules.ts';
import { fixtureRecords } from './support/sumdb-fixtures.ts';

let tmp: string;
let fixtures: FixtureSet;
let db: GoSumdb;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-go-sumdb-harness-'));
  fixtures = await writeFixtureModules(join(tmp, 'goproxy'));
  db = await startGoSumdb({ records: fixtureRecords(fixtures) });
});

afterAll(async () => {
  await db?.close();
  await rm(tmp, { recursive: true, force: true });
});

let runs = 0;
async function goGet(go: (typeof CLIENT_GOS)[number], target: string, dir = join(tmp, `run-${++runs}`)) {
  const goEnv = await makeGoEnv(dir, { goproxy: fixtures.goproxy });
  goEnv.env.GOSUMDB = db.gosumdb;
  const work = join(dir, 'work');
  await initModule(work, 'example.com/consumer').catch(() => undefined);
  const result = await runGo(['get', target], { env: goEnv.env, cwd: work, go });
  const goSum = await readFile(join(work, 'go.sum'), 'utf8').catch(() => '');
  return { ...result, goSum };
}

describe.each(CLIENT_GOS)('go checksum database harness with $version', (go) => {
  it('is a database go verifies against: go get succeeds and go.sum holds its records', async () => {
    const r = await goGet(go, 'example.com/hello@v1.1.0');
    expect(r.stderr).not.toMatch(/SECURITY|verifying/);
    expect(r.code).toBe(0);
    const hello = fixtures.modules.find((m) => m.path === 'example.com/hello');
    const v = hello?.versions.find((x) => x.version === 'v1.1.0');
    expect(r.goSum).toBe(
      `example.com/hello v1.1.0 ${v?.sum}\nexample.com/hello v1.1.0/go.mod ${v?.goModSum}\n`,
    );
  });

  it.each([
    ['lie', 'example.com/lib/v2@v2.1.0', 'cannot authenticate record data in server response'],
    ['badtiles', 'github.com/Acme/Tool@v1.0.0', 'downloaded inconsistent tile'],
  ] as const)('refuses the database in mode %s (%s)', async (mode, target, message) => {
    await db.setMode(mode);
    try {
      const r = await goGet(go, target);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    } finally {
      await db.setMode('normal');
    }
  });

  it('reports a fork after go accepted a head of the first log (fork)', async () => {
    const dir = join(tmp, `run-${++runs}`);
    expect((await goGet(go, 'example.com/hello@v1.0.0', dir)).code).toBe(0);
    await db.setMode('fork');
    try {
      const r = await goGet(go, 'example.com/old@v3.0.0+incompatible', dir);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('SECURITY ERROR\ngo.sum database server misbehavior detected!');
    } finally {
      await db.setMode('normal');
    }
  });
});
