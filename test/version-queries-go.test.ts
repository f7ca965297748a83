/**
 * Version queries: a branch, tag or commit asked for as
 * `@v/<query>.info` is answered by the upstream with the `.info` of the version
 * it resolved; modgate decides on that resolved version before sending the
 * answer, for Athens and Artifactory alike, and audits the query beside it.
 * `.mod`/`.zip` are only served for canonical versions. Driven by the real go
 * command and by HTTPS requests as curl sends them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleVersionDir, writeModuleVersion } from '../gateway/protocol/goproxy-folder.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type ArtifactoryEmulator, startArtifactoryEmulator } from './support/artifactory-emulator.ts';
import { type Stack, startStack } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password };
/** Served by the Athens emulator. */
const VIA_ATHENS = 'example.com/ranged';
/** Routed to the Artifactory emulator. */
const VIA_ARTIFACTORY = 'art.example/ranged';
const VERSIONS = ['v1.4.0', 'v1.5.0', 'v1.6.0'];
const REASON = 'CVE-2026-0001 in v1.4.2 to v1.5.x';

const POLICY = `default: allow
rules:
  - name: ranged-cve
    subjects: ["*"]
    modules: ["${VIA_ATHENS}@>=v1.4.2 <v1.6.0", "${VIA_ARTIFACTORY}@>=v1.4.2 <v1.6.0"]
    action: deny
    reason: ${REASON}
routes:
  - name: art
    modules: ["art.example"]
    upstream: artifactory
`;

/** Queries the upstreams resolve, as Athens and Artifactory answer them: the resolved version's `.info`. */
const QUERIES: Record<string, string> = {
  master: 'v1.5.0',
  '0123456789ab': 'v1.5.0',
  'v1.5': 'v1.5.0',
  release: 'v1.6.0',
};

let stack: Stack;
let art: ArtifactoryEmulator;

beforeAll(async () => {
  stack = await startStack({
    directory: 'file',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config, { fixtures }) => {
      art = await startArtifactoryEmulator({
        repositories: [{ key: 'go-remote', root: fixtures.root, anonymousRead: true }],
      });
      const upstreams = config.upstreams as Record<string, unknown>;
      return {
        ...config,
        upstreams: {
          ...upstreams,
          artifactory: {
            kind: 'artifactory',
            url: art.artifactoryUrl,
            repository: 'go-remote',
            allow_insecure_http: true,
          },
        },
      };
    },
  });
  for (const path of [VIA_ATHENS, VIA_ARTIFACTORY]) {
    for (const version of VERSIONS) {
      await writeModuleVersion(stack.fixtures.root, {
        path,
        version,
        time: new Date('2026-01-01T00:00:00Z'),
        files: { 'ranged.go': 'package ranged\n' },
      });
    }
    const dir = moduleVersionDir(stack.fixtures.root, path);
    for (const [query, version] of Object.entries(QUERIES)) {
      await writeFile(join(dir, `${query}.info`), await readFile(join(dir, `${version}.info`)));
    }
  }
});
afterAll(async () => {
  await stack?.close();
  await art?.close();
});

const get = (path: string) =>
  httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [alice.login, alice.password] });

/** The audit record of the request with this path (the newest one). */
async function auditOf(path: string): Promise<Record<string, unknown>> {
  const records = await stack.gateway.auditRecords();
  const mine = records.filter((r) => (r.url as { path: string }).path === path);
  expect(mine.length).toBeGreaterThan(0);
  return mine[mine.length - 1] as Record<string, unknown>;
}

/** go prints a refusal body indented under "server response:"; fold the whitespace to compare. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

describe.each([
  ['Athens', VIA_ATHENS],
  ['Artifactory', VIA_ARTIFACTORY],
])('a version query is decided on the version %s resolved', (_, module) => {
  it.each(['master', '0123456789ab', 'v1.5'])(
    '@v/%s.info resolving into a denied range is 403',
    async (query) => {
      const path = `/${module}/@v/${query}.info`;
      const res = await get(path);
      expect(res.status).toBe(403);
      expect(res.text).toBe(`modgate: ${module}@v1.5.0 denied by rule "ranged-cve": ${REASON}\n`);
      const audit = await auditOf(path);
      expect(audit.module).toEqual({ path: module, query, version: 'v1.5.0' });
      expect(audit.policy).toMatchObject({ decision: 'deny', rule: 'ranged-cve' });
    },
  );

  it('@v/release.info resolving to an allowed version is served as the upstream answered it', async () => {
    const path = `/${module}/@v/release.info`;
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ Version: 'v1.6.0' });
    const audit = await auditOf(path);
    expect(audit.module).toEqual({ path: module, query: 'release', version: 'v1.6.0' });
    expect(audit.policy).toMatchObject({ decision: 'allow', rule: 'default' });
  });

  it('@latest audits the query and the version it resolved to', async () => {
    const path = `/${module}/@latest`;
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ Version: 'v1.6.0' });
    expect((await auditOf(path)).module).toEqual({ path: module, query: 'latest', version: 'v1.6.0' });
  });
});

describe('.mod and .zip are served only for canonical versions', () => {
  it.each(['master.mod', 'master.zip', 'v1.5.mod', 'v1.5.zip'])(
    '@v/%s is 400 and never forwarded',
    async (file) => {
      stack.athens!.clear();
      const res = await get(`/${VIA_ATHENS}/@v/${file}`);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(
        /^modgate: version "(master|v1\.5)" invalid: not a (semantic|canonical) version/,
      );
      expect(stack.athens!.requests).toEqual([]);
    },
  );
});

describe.each(CLIENT_GOS)('the go command ($version)', (goBinary) => {
  it('go list -m @master resolving into a denied range fails with the rule; @release resolves', async () => {
    const env = await stack.goEnv(`query-${goBinary.version}`, alice);
    const denied = await runGo(['list', '-m', `${VIA_ATHENS}@master`], {
      env: env.env,
      cwd: stack.dir,
      go: goBinary,
    });
    expect(denied.code).not.toBe(0);
    expect(folded(denied.stderr)).toContain(
      `403 Forbidden server response: modgate: ${VIA_ATHENS}@v1.5.0 denied by rule "ranged-cve": ${REASON}`,
    );
    const allowed = await runGo(['list', '-m', `${VIA_ATHENS}@release`], {
      env: env.env,
      cwd: stack.dir,
      go: goBinary,
    });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout.trim()).toBe(`${VIA_ATHENS} v1.6.0`);
  });
});
