/**
 * No upstream redirect ever reaches a go client. go ≥1.24 sends its GOAUTH
 * credential along a redirect to another host, so modgate either follows an
 * Athens or Artifactory redirect itself — never handing the client's or the
 * upstream's credential to the other host — or refuses with its one-line
 * reason (502). Every request kind modgate forwards or reads itself, with
 * every redirect status, pointed at a second listener on 127.0.0.2; then the
 * real go command downloads a module whose zip Athens redirects there.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleVersionDir } from '../gateway/protocol/goproxy-folder.ts';
import {
  type AthensEmulator,
  type RecordedRequest,
  startAthensEmulator,
} from '../harness/athens-emulator.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { CURRENT_GO } from '../harness/go-binaries.ts';
import { httpsGet, type SeenResponse } from '../harness/https-client.ts';
import { type ArtifactoryEmulator, startArtifactoryEmulator } from './support/artifactory-emulator.ts';
import { secretFile } from './support/gateway.ts';
import { type Stack, startStack, UPSTREAM_PASSWORD, UPSTREAM_USER } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password };
/** The Artifactory user behind modgate's static Artifactory credential. */
const ART_USER = { username: 'svc-modgate', password: 'svc-modgate-pw-R7t' };
/** The other host every redirect points at. */
const OTHER_HOST = '127.0.0.2';
/** What the other host answers to checksum lookups, so its bytes can be told apart. */
const OTHER_SUMDB_ANSWER = 'sumdb answer from the other host\n';
/** A branch the upstreams resolve (`@v/master.info`), to the newest version. */
const QUERY = 'master';
const STATUSES = [301, 302, 303, 307, 308] as const;
type RedirectStatus = (typeof STATUSES)[number];

const POLICY = `default: allow
rules: []
routes:
  - name: art
    modules: ["example.com/lib"]
    upstream: artifactory
`;

let stack: Stack;
let art: ArtifactoryEmulator;
/** The other host: an Athens without authentication on 127.0.0.2, serving the same modules. */
let other: AthensEmulator;

beforeAll(async () => {
  stack = await startStack({
    directory: 'file',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config, { dir, fixtures }) => {
      other = await startAthensEmulator({
        root: fixtures.root,
        host: OTHER_HOST,
        sumdbAnswer: OTHER_SUMDB_ANSWER,
      });
      art = await startArtifactoryEmulator({
        repositories: [{ key: 'go-remote', root: fixtures.root }],
        users: [{ ...ART_USER, permissions: { 'go-remote': 'read' } }],
      });
      const upstreams = config.upstreams as Record<string, Record<string, unknown>>;
      // Refusals are upstream failures: the breaker must not turn the later cases into 503s.
      const breaker = { circuit_breaker: { failures: 100_000 } };
      return {
        ...config,
        upstreams: {
          athens: { ...upstreams.athens, ...breaker },
          artifactory: {
            kind: 'artifactory',
            url: art.artifactoryUrl,
            repository: 'go-remote',
            allow_insecure_http: true,
            credential: 'artifactory-static',
            ...breaker,
          },
        },
        credentials: {
          'artifactory-static': {
            kind: 'static',
            basic: {
              username: ART_USER.username,
              password: await secretFile(dir, 'art-password', ART_USER.password),
            },
          },
        },
      };
    },
  });
  for (const module of ['example.com/hello', 'example.com/lib/v2']) {
    const dir = moduleVersionDir(stack.fixtures.root, module);
    const newest = stack.fixtures.modules.find((m) => m.path === module)!.latest;
    await writeFile(join(dir, `${QUERY}.info`), await readFile(join(dir, `${newest}.info`)));
  }
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([art?.close(), other?.close()]);
});

/** Every credential of the test as it could appear in a header: passwords and Basic values. */
function secrets(): string[] {
  const art64 = Buffer.from(`${ART_USER.username}:${ART_USER.password}`).toString('base64');
  return [...stack.secrets, ART_USER.password, art64];
}

/** One upstream under test: its module, how to make it redirect, and what it received. */
interface UpstreamCase {
  name: 'athens' | 'artifactory';
  module: string;
  version: string;
  redirect(status: RedirectStatus | undefined): void;
  /** Request targets it received (after its own base path), and whether each carried modgate's credential. */
  received(): { target: string; credential: boolean }[];
}

const UPSTREAMS: UpstreamCase[] = [
  {
    name: 'athens',
    module: 'example.com/hello',
    version: 'v1.2.0',
    redirect: (status) =>
      stack.athens!.configure(
        status === undefined
          ? { redirectTo: undefined }
          : { redirectTo: { origin: other.origin, requests: 'all' }, redirectStatus: status },
      ),
    received: () =>
      stack.athens!.requests.map((r) => ({
        target: r.url,
        credential: r.headers.authorization === basic(UPSTREAM_USER, UPSTREAM_PASSWORD),
      })),
  },
  {
    name: 'artifactory',
    module: 'example.com/lib/v2',
    version: 'v2.1.0',
    redirect: (status) =>
      art.configure({
        repositories: {
          'go-remote': { redirectTo: status === undefined ? undefined : { origin: other.origin, status } },
        },
      }),
    received: () =>
      art.requests.map((r) => ({
        target: r.url.replace('/artifactory/api/go/go-remote', ''),
        credential: r.authKind === 'password' && r.username === ART_USER.username,
      })),
  },
];

/** A request kind, the path go asks for, and what modgate does with a redirect to it. */
interface Kind {
  kind: string;
  path(module: string, version: string): string;
  /** `follow`: modgate forwards it and follows; `refuse`: modgate reads it itself and refuses the redirect. */
  outcome: 'follow' | 'refuse';
  /** The bytes the other host serves for it (followed kinds). */
  served?(module: string, version: string): Promise<Buffer>;
}

const file = (ext: string) => (m: string, v: string) =>
  readFile(join(moduleVersionDir(stack.fixtures.root, m), `${v}.${ext}`));

const KINDS: Kind[] = [
  { kind: '.info', path: (m, v) => `/${m}/@v/${v}.info`, outcome: 'follow', served: file('info') },
  { kind: '.mod', path: (m, v) => `/${m}/@v/${v}.mod`, outcome: 'follow', served: file('mod') },
  { kind: '.zip', path: (m, v) => `/${m}/@v/${v}.zip`, outcome: 'follow', served: file('zip') },
  { kind: '@v/list', path: (m) => `/${m}/@v/list`, outcome: 'refuse' },
  { kind: '@latest', path: (m) => `/${m}/@latest`, outcome: 'refuse' },
  { kind: `@v/${QUERY}.info`, path: (m) => `/${m}/@v/${QUERY}.info`, outcome: 'refuse' },
  {
    kind: 'sumdb lookup',
    path: (m, v) => `/sumdb/sum.golang.org/lookup/${m}@${v}`,
    outcome: 'follow',
    served: async () => Buffer.from(OTHER_SUMDB_ANSWER),
  },
];

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The other host got only requests from modgate, and not one credential of anybody's. */
function expectNoCredentialAt(requests: RecordedRequest[]): void {
  for (const r of requests) {
    expect(r.headers.authorization).toBeUndefined();
    expect(r.headers['x-request-id'], 'sent by modgate, not by the client').toBeDefined();
    const seen = JSON.stringify(r.headers);
    for (const secret of secrets()) expect(seen).not.toContain(secret);
  }
}

function expectNoRedirect(res: SeenResponse): void {
  expect(res.status >= 300 && res.status < 400, `status ${res.status}`).toBe(false);
  expect(res.headers.location).toBeUndefined();
}

const CASES = UPSTREAMS.flatMap((u) =>
  KINDS.flatMap((k) => STATUSES.map((status) => [u.name, k.kind, status, u, k] as const)),
);

describe('an upstream redirect to another host never reaches the client', () => {
  it.each(CASES)('%s, %s, %i', async (_, __, status, upstream, kind) => {
    const path = kind.path(upstream.module, upstream.version);
    upstream.redirect(status);
    stack.athens!.clear();
    art.clear();
    other.clear();
    try {
      const res = await httpsGet(stack.gateway.url, path, {
        ca: stack.pki.caPem,
        basic: [alice.login, alice.password],
      });
      expectNoRedirect(res);
      // The upstream was asked, with modgate's credential, and answered the redirect.
      const asked = upstream.received();
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((r) => r.credential)).toBe(true);
      if (kind.outcome === 'follow') {
        expect(res.status, res.text).toBe(200);
        expect(res.body.equals(await kind.served!(upstream.module, upstream.version))).toBe(true);
        expect(asked.map((r) => r.target)).toEqual([path]);
        expect(other.requests.map((r) => [r.method, r.url])).toEqual([['GET', path]]);
      } else {
        expect(res.status).toBe(502);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.text).toMatch(
          new RegExp(
            `^modgate: upstream ${upstream.name} answered a redirect \\(${status}\\), which modgate does not follow \\(request [^)\\s]+\\)\\n$`,
          ),
        );
        expect(other.requests).toEqual([]);
      }
      expectNoCredentialAt(other.requests);
    } finally {
      upstream.redirect(undefined);
    }
  });
});

describe.skipIf(CURRENT_GO === undefined)('the go command through modgate', () => {
  it(`${CURRENT_GO?.version}: go mod download works while Athens redirects the zip to another host, which sees no credential`, async () => {
    const hello = stack.fixtures.modules.find((m) => m.path === 'example.com/hello')!;
    const version = hello.versions[1]!;
    const zip = `/example.com/hello/@v/${version.version}.zip`;
    stack.athens!.configure({ redirectTo: { origin: other.origin, requests: 'zips' }, redirectStatus: 302 });
    stack.athens!.clear();
    other.clear();
    try {
      const env = await stack.goEnv('zip-redirect', alice);
      const result = await runGo(['mod', 'download', '-json', `example.com/hello@${version.version}`], {
        env: env.env,
        cwd: stack.dir,
        go: CURRENT_GO,
      });
      expect(result.code, result.stderr).toBe(0);
      const downloaded = JSON.parse(result.stdout) as { Zip: string; Sum: string; Error?: string };
      expect(downloaded.Error).toBeUndefined();
      expect(downloaded.Sum).toBe(version.sum);
      expect((await readFile(downloaded.Zip)).equals(await readFile(join(stack.fixtures.root, zip)))).toBe(
        true,
      );
      // Athens redirected the zip (with modgate's credential there); only modgate went to the other host.
      const athensZip = stack.athens!.requests.filter((r) => r.url === zip);
      expect(athensZip).toHaveLength(1);
      expect(athensZip[0]!.headers.authorization).toBe(basic(UPSTREAM_USER, UPSTREAM_PASSWORD));
      expect(other.requests.map((r) => r.url)).toEqual([zip]);
      expectNoCredentialAt(other.requests);
    } finally {
      stack.athens!.configure({ redirectTo: undefined });
    }
  });
});
