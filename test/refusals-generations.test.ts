/**
 * Client compatibility: every refusal of the
 * README's table that the go command can provoke, run with each go
 * generation the machine has (go 1.26 and Debian's go 1.19), asserting the
 * first line go prints under "server response:" is modgate's reason; and the
 * netrc forms for real: go ≤1.23 looks up `machine <host>`, go ≥1.24
 * `machine <host>:<port>`, and a netrc with both lines works for both.
 *
 * Not reachable from go and covered over plain HTTPS elsewhere: 400 invalid
 * module path (go checks the path before asking), 503 busy and 429 rate limit
 * (test/refusals-go.test.ts).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthensEmulator, startAthensEmulator } from '../harness/athens-emulator.ts';
import { USERS } from '../harness/directory-fixture.ts';
import {
  CLIENT_GOS,
  type GoBinary,
  type GoResult,
  listModCache,
  matchesNetrcPort,
  runGo,
} from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { freePort } from '../harness/ports.ts';
import { secretFile } from './support/gateway.ts';
import { type NetrcForm, type Stack, startStack } from './support/stack.ts';

const ADMIN_TOKEN = 'admin-token-refusals-generations-5Qm';
/** Failed logins that lock a user (this file's lockout setting). */
const MAX_FAILURES = 3;
/** The slow upstream's timeout (ms). */
const SLOW_TIMEOUT_MS = 1_000;

const POLICY = `default: allow
rules:
  - name: no-lib
    subjects: ["*"]
    modules: ["example.com/lib"]
    action: deny
    reason: example.com/lib is not approved, use example.com/hello
routes:
  - name: corp
    modules: ["corp.example/*"]
    upstream: athens
    private: true
  - name: wrong-credential
    modules: ["github.com/Acme"]
    upstream: athens-wrong
  - name: down
    modules: ["down.example"]
    upstream: down
  - name: broken
    modules: ["broken.example"]
    upstream: broken
  - name: slow
    modules: ["slow.example"]
    upstream: slow
`;

const GENERATIONS = CLIENT_GOS.map((go) => [go.version, go] as const);

let stack: Stack;
let slow: AthensEmulator;

beforeAll(async () => {
  const closed = await freePort();
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config, { dir, fixtures, athens }) => {
      slow = await startAthensEmulator({ root: fixtures.root, hang: true });
      const athensUpstream = (config.upstreams as Record<string, Record<string, unknown>>).athens;
      const closedUrl = `http://127.0.0.1:${closed}`;
      return {
        ...config,
        upstreams: {
          athens: athensUpstream,
          'athens-wrong': {
            kind: 'athens',
            url: athens!.url,
            allow_insecure_http: true,
            username: 'modgate-upstream',
            password: await secretFile(dir, 'athens-wrong-password', 'not-the-athens-password'),
          },
          down: {
            kind: 'athens',
            url: closedUrl,
            allow_insecure_http: true,
            circuit_breaker: { failures: 1_000 },
          },
          broken: {
            kind: 'athens',
            url: closedUrl,
            allow_insecure_http: true,
            circuit_breaker: { failures: 1, cool_down: '10m' },
          },
          slow: {
            kind: 'athens',
            url: slow.url,
            allow_insecure_http: true,
            timeout: `${SLOW_TIMEOUT_MS}ms`,
            circuit_breaker: { failures: 1_000 },
          },
        },
        admin: { token: await secretFile(dir, 'admin-token', ADMIN_TOKEN) },
        abuse: { lockout: { max_failures: MAX_FAILURES } },
      };
    },
  });
  // The broken upstream's one allowed failure: from now on its circuit is open.
  const opened = await get('/broken.example/m/@v/v1.0.0.info', USERS.alice);
  expect(opened.status).toBe(502);
  const revoked = await httpsGet(stack.gateway.url, '/_modgate/admin/revoke?user=erin&for=1h', {
    ca: stack.pki.caPem,
    method: 'POST',
    authorization: `Bearer ${ADMIN_TOKEN}`,
  });
  expect(revoked.status).toBe(200);
  stack.athens!.configure({ exclude: ['example.com/old'] });
});
afterAll(async () => {
  await stack?.close();
  await slow?.close();
});

function get(path: string, user: { name: string; password: string }) {
  return httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [user.name, user.password] });
}

let envs = 0;

/** `go mod download <target>` with `go`, as `user` (netrc in `form`), or with no netrc at all. */
async function download(
  go: GoBinary,
  target: string,
  user: { name: string; password: string } | undefined,
  form: NetrcForm = 'both',
  extraEnv: Record<string, string> = {},
): Promise<GoResult & { cached: () => Promise<string[]> }> {
  envs += 1;
  const env = await stack.goEnv(
    `${go.version}-${envs}`,
    user && { login: user.name, password: user.password },
    form,
  );
  const result = await runGo(['mod', 'download', target], {
    env: { ...env.env, ...extraEnv },
    cwd: stack.dir,
    go,
  });
  return { ...result, cached: () => listModCache(env.gomodcache) };
}

/**
 * The first line go printed under "server response:", and the status go
 * printed before it (`403 Forbidden`). go ≤1.23 puts the reason on the same
 * line as "server response:"; go ≥1.24 may print a 4xx body twice: the first
 * line after the first "server response:" must be modgate's reason either way.
 */
function printed(result: GoResult): { status: string; line: string } {
  const out = `${result.stdout}\n${result.stderr}`;
  const m = /(\d{3} [A-Za-z ]+?)\s+server response:\s*\n?\s*([^\n]*)/.exec(out);
  if (!m) throw new Error(`go printed no server response:\n${out}`);
  return { status: (m[1] as string).trim(), line: (m[2] as string).trim() };
}

describe.each(GENERATIONS)('%s prints each refusal’s reason', (_version, go) => {
  it('401 without credentials: authentication required', async () => {
    const result = await download(go, 'example.com/hello@v1.0.0', undefined);
    expect(result.code).not.toBe(0);
    expect(printed(result)).toEqual({ status: '401 Unauthorized', line: 'modgate: authentication required' });
  });

  it('401 for a wrong password', async () => {
    // A name the directory does not know: the answer is the same, and no fixture user gets locked.
    const result = await download(go, 'example.com/hello@v1.0.0', { name: 'mallory', password: 'guess' });
    expect(printed(result)).toEqual({
      status: '401 Unauthorized',
      line: 'modgate: invalid username or password',
    });
  });

  it('403 for a disabled account', async () => {
    const result = await download(go, 'example.com/hello@v1.0.0', USERS.carol);
    expect(printed(result)).toEqual({ status: '403 Forbidden', line: 'modgate: user account is disabled' });
  });

  it('403 for a policy denial, with the rule and its reason', async () => {
    const result = await download(go, 'example.com/lib/v2@v2.0.0', USERS.alice);
    expect(printed(result)).toEqual({
      status: '403 Forbidden',
      line: 'modgate: example.com/lib/v2@v2.0.0 denied by rule "no-lib": example.com/lib is not approved, use example.com/hello',
    });
  });

  it('403 passed on from the upstream’s own filter', async () => {
    const result = await download(go, 'example.com/old@v3.0.0+incompatible', USERS.alice);
    expect(printed(result)).toEqual({
      status: '403 Forbidden',
      line: 'modgate: example.com/old@v3.0.0+incompatible: refused by upstream athens (403)',
    });
  });

  it('404 passed through, so a GOPROXY list falls back', async () => {
    const result = await download(go, 'example.com/hello@v9.9.9', USERS.alice);
    expect(printed(result)).toEqual({
      status: '404 Not Found',
      line: 'modgate: example.com/hello@v9.9.9: not found (upstream athens answered 404)',
    });
  });

  it('403 for a checksum lookup of a private module', async () => {
    const result = await download(go, 'corp.example/team-a/secret@v0.1.0', USERS.alice, 'both', {
      GOSUMDB: 'sum.golang.org',
    });
    expect(printed(result)).toEqual({
      status: '403 Forbidden',
      line: 'modgate: corp.example/team-a/secret is private: checksum lookups are refused; set GONOSUMDB=corp.example/* (or GOPRIVATE) so go does not ask',
    });
  });

  it('403 for a revoked user', async () => {
    const result = await download(go, 'example.com/hello@v1.0.0', USERS.erin);
    const { status, line } = printed(result);
    expect(status).toBe('403 Forbidden');
    expect(line).toMatch(/^modgate: access for erin is revoked until \d{4}-\d\d-\d\dT[\d:.]+Z$/);
  });

  it('429 for a locked user, even with the right password', async () => {
    for (let i = 0; i < MAX_FAILURES; i++)
      await get('/example.com/hello/@v/list', { name: 'zoë', password: 'no' });
    const result = await download(go, 'example.com/hello@v1.0.0', USERS.zoe);
    const { status, line } = printed(result);
    expect(status).toBe('429 Too Many Requests');
    expect(line).toMatch(/^modgate: too many failed logins for zoë; try again in \d+s$/);
  });

  it('502 for an unreachable upstream, with the request id', async () => {
    const result = await download(go, 'down.example/m@v1.0.0', USERS.alice);
    const { status, line } = printed(result);
    expect(status).toBe('502 Bad Gateway');
    expect(line).toMatch(/^modgate: upstream down unreachable \(ECONNREFUSED\) \(request [0-9a-f]{32}\)$/);
  });

  it('502 when the upstream rejects modgate’s own credential', async () => {
    const result = await download(go, 'github.com/Acme/Tool@v1.0.0', USERS.alice);
    const { status, line } = printed(result);
    expect(status).toBe('502 Bad Gateway');
    expect(line).toMatch(
      /^modgate: upstream athens-wrong rejected modgate's credential \(401\); tell the modgate operator/,
    );
  });

  it('503 while the upstream’s circuit is open', async () => {
    const result = await download(go, 'broken.example/m@v1.0.0', USERS.alice);
    const { status, line } = printed(result);
    expect(status).toBe('503 Service Unavailable');
    expect(line).toMatch(/^modgate: upstream broken is failing; circuit open, retrying in \d+s/);
  });

  it('504 for an upstream that does not answer in time', async () => {
    const result = await download(go, 'slow.example/m@v1.0.0', USERS.alice);
    const { status, line } = printed(result);
    expect(status).toBe('504 Gateway Timeout');
    expect(line).toMatch(
      new RegExp(
        `^modgate: upstream slow did not answer within ${SLOW_TIMEOUT_MS} ms \\(request [0-9a-f]{32}\\)$`,
      ),
    );
  });
});

describe.each(GENERATIONS)('%s and the netrc forms', (_version, go) => {
  const port = matchesNetrcPort(go);
  it.each([
    ['host', !port],
    ['host:port', port],
    ['both', true],
  ] as const)('a netrc with the %s line: works is %s', async (form, works) => {
    const result = await download(go, 'example.com/hello@v1.1.0', USERS.bob, form);
    if (works) {
      expect(result.code, result.stderr).toBe(0);
      expect(await result.cached()).toContain('example.com/hello/@v/v1.1.0.zip');
    } else {
      expect(result.code).not.toBe(0);
      expect(printed(result)).toEqual({
        status: '401 Unauthorized',
        line: 'modgate: authentication required',
      });
    }
  });
});

describe('a malformed Authorization header (only go ≥1.24 can send one, through GOAUTH)', () => {
  const modern = CLIENT_GOS.filter(matchesNetrcPort).map((go) => [go.version, go] as const);
  it.each(modern)('%s prints modgate’s reason', async (_v, go) => {
    const script = join(stack.dir, 'bad-goauth.sh');
    await writeFile(
      script,
      `#!/bin/sh\nprintf '%s\\n\\n%s\\n\\n' '${stack.gateway.url}' 'Authorization: Basic !!!'\n`,
      {
        mode: 0o755,
      },
    );
    const result = await download(go, 'example.com/hello@v1.0.0', undefined, 'both', { GOAUTH: script });
    const { status, line } = printed(result);
    expect(status).toBe('401 Unauthorized');
    expect(line).toMatch(/^modgate: /);
    expect(line).not.toBe('modgate: authentication required');
  });
});

describe.each(GENERATIONS)('%s while the directory is down', (_version, go) => {
  it('503: the user directory is unavailable', async () => {
    await stack.slapd!.stop();
    try {
      // dave has not logged in in this file: nothing is cached, the directory must be asked.
      const result = await download(go, 'example.com/hello@v1.0.0', USERS.dave);
      const { status, line } = printed(result);
      expect(status).toBe('503 Service Unavailable');
      expect(line).toMatch(/^modgate: the user directory is unavailable \(request [0-9a-f]{32}\)$/);
    } finally {
      await stack.slapd!.restart();
    }
  });
});
