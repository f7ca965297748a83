/**
 * Metrics match traffic exactly: a scripted set of requests (successes of
 * each kind, every kind of 401, a disabled user, a policy denial, bad paths,
 * upstream 404s), then /metrics must hold exactly the counts the script
 * implies — every series of the request and auth counters, no more, no fewer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureUser, USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

/** The one module version the policy denies. */
const DENIED = { module: 'example.com/lib/v2', version: 'v2.0.0' } as const;
const POLICY = [
  'default: allow',
  'rules:',
  '  - name: no-lib-v2.0.0',
  '    subjects: ["*"]',
  `    modules: ["${DENIED.module}@${DENIED.version}"]`,
  '    action: deny',
  '    reason: test denial',
  '',
].join('\n');

type Auth =
  | { kind: 'none' }
  | { kind: 'user'; user: FixtureUser }
  | { kind: 'wrong'; user: FixtureUser; password: string }
  | { kind: 'raw'; header: string };

/** One scripted request and what it must produce. `auth` is the auth counter's result label, if counted. */
interface Step {
  readonly path: string;
  readonly method?: 'GET' | 'HEAD';
  readonly auth: Auth;
  readonly status: number;
  readonly kind: string;
  readonly upstream: '' | 'athens';
  readonly authResult?: string;
  /** The auth counter's method label: the credential's kind for failures. */
  readonly authMethod?: string;
  /** The policy decision counted for it, if the request got that far. */
  readonly decision?: 'allow' | 'deny';
}

const alice: Auth = { kind: 'user', user: USERS.alice };
const bob: Auth = { kind: 'user', user: USERS.bob };
const ok = (path: string, kind: string, auth: Auth = alice, method: 'GET' | 'HEAD' = 'GET'): Step => ({
  path,
  method,
  auth,
  status: 200,
  kind,
  upstream: 'athens',
  authResult: 'ok',
  decision: 'allow',
});
const unauthorized = (auth: Auth, authResult: string, authMethod: string, status = 401): Step => ({
  path: '/example.com/hello/@v/v1.0.0.info',
  auth,
  status,
  kind: 'info',
  upstream: '',
  authResult,
  authMethod,
});

const SCRIPT: readonly Step[] = [
  ok('/example.com/hello/@v/v1.0.0.info', 'info'),
  ok('/example.com/hello/@v/v1.1.0.info', 'info'),
  ok('/example.com/hello/@v/v1.2.0.info', 'info', bob),
  ok('/example.com/hello/@v/v1.0.0.mod', 'mod'),
  ok('/github.com/!acme/!tool/@v/v1.0.0.mod', 'mod', bob),
  ok('/example.com/hello/@v/v1.0.0.zip', 'zip'),
  ok('/example.com/lib/v2/@v/v2.1.0.zip', 'zip', bob),
  ok('/example.com/hello/@v/v1.2.0.zip', 'zip', alice, 'HEAD'),
  unauthorized({ kind: 'none' }, 'missing', 'none'),
  unauthorized({ kind: 'none' }, 'missing', 'none'),
  // The same wrong password twice asks the directory once (negative cache); a second wrong password once more.
  unauthorized({ kind: 'wrong', user: USERS.alice, password: 'wrong-1' }, 'invalid_credentials', 'basic'),
  unauthorized({ kind: 'wrong', user: USERS.alice, password: 'wrong-1' }, 'invalid_credentials', 'basic'),
  unauthorized({ kind: 'wrong', user: USERS.bob, password: 'wrong-2' }, 'invalid_credentials', 'basic'),
  unauthorized({ kind: 'raw', header: 'Digest username="alice"' }, 'malformed', 'unrecognized'),
  unauthorized(
    { kind: 'raw', header: 'Bearer mgp_eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
    'invalid_credentials',
    'pat',
  ),
  unauthorized({ kind: 'user', user: USERS.carol }, 'user_disabled', 'basic', 403),
  // Bad paths are refused before authentication: no auth result, no upstream.
  { path: '/Example.com/hello/@v/v1.0.0.info', auth: alice, status: 400, kind: 'unrecognized', upstream: '' },
  { path: '/example.com/hello/@v/v1.0.zip', auth: alice, status: 400, kind: 'unrecognized', upstream: '' },
  // Upstream 404s: authenticated and allowed, then not found.
  {
    path: '/example.com/nope/@v/v1.0.0.info',
    auth: alice,
    status: 404,
    kind: 'info',
    upstream: 'athens',
    authResult: 'ok',
    decision: 'allow',
  },
  {
    path: '/example.com/hello/@v/v9.9.9.mod',
    auth: bob,
    status: 404,
    kind: 'mod',
    upstream: 'athens',
    authResult: 'ok',
    decision: 'allow',
  },
  {
    path: `/${DENIED.module}/@v/${DENIED.version}.info`,
    auth: alice,
    status: 403,
    kind: 'info',
    upstream: 'athens',
    authResult: 'ok',
    decision: 'deny',
  },
  { path: '/healthz', auth: { kind: 'none' }, status: 200, kind: 'modgate.health', upstream: '' },
];

let stack: Stack;
let metrics: Series;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config) => ({ ...config, metrics: { port: 0 } }),
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

function authorization(auth: Auth): string | undefined {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'user':
      return basic(auth.user.name, auth.user.password);
    case 'wrong':
      return basic(auth.user.name, auth.password);
    case 'raw':
      return auth.header;
  }
}

/** Metric samples by `name{label="value",…}` with labels sorted, so label order does not matter. */
type Series = Map<string, number>;

function seriesKey(name: string, labels: Record<string, string>): string {
  const inner = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
  return `${name}{${inner}}`;
}

/** Parses the Prometheus text format (the subset prom-client writes: no escaped quotes in our labels). */
function parseMetrics(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[k!] = v!;
    series.set(seriesKey(m[1]!, labels), Number(m[3]));
  }
  return series;
}

/** Every series of `name` (optionally a histogram's `_count`), as a plain object for toEqual. */
function family(name: string): Record<string, number> {
  return Object.fromEntries([...metrics].filter(([k]) => k.startsWith(`${name}{`)));
}

/** Counts steps by a key; undefined keys are not counted. */
function tally(key: (s: Step) => string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const step of SCRIPT) {
    const k = key(step);
    if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

describe('metrics after a scripted set of requests', () => {
  it('each scripted request gets the status the script expects', async () => {
    // One at a time: the directory-call counts below depend on the cache seeing each credential in order.
    for (const step of SCRIPT) {
      const header = authorization(step.auth);
      const res = await httpsGet(stack.gateway.url, step.path, {
        ca: stack.pki.caPem,
        method: step.method ?? 'GET',
        ...(header === undefined ? {} : { authorization: header }),
      });
      expect({ path: step.path, status: res.status }).toEqual({ path: step.path, status: step.status });
    }
    // The audit record and the metrics are written when the response closes: wait for the last one.
    await stack.gateway.waitForAudit(SCRIPT.length);
    const res = await fetch(stack.gateway.metricsUrl!);
    expect(res.status).toBe(200);
    metrics = parseMetrics(await res.text());
  });

  it('modgate_requests_total has exactly one series per kind/outcome/upstream/status, with its count', () => {
    const expected = tally((s) =>
      seriesKey('modgate_requests_total', {
        kind: s.kind,
        outcome: s.status >= 400 ? 'failure' : 'success',
        upstream: s.upstream,
        status: String(s.status),
      }),
    );
    expect(family('modgate_requests_total')).toEqual(expected);
    const total = Object.values(family('modgate_requests_total')).reduce((a, b) => a + b, 0);
    expect(total).toBe(SCRIPT.length);
  });

  it('modgate_request_duration_seconds counts every request under its kind', () => {
    const expected = tally((s) => seriesKey('modgate_request_duration_seconds_count', { kind: s.kind }));
    expect(family('modgate_request_duration_seconds_count')).toEqual(expected);
  });

  it('modgate_auth_total counts each authentication result by method', () => {
    const expected = tally((s) =>
      s.authResult === undefined
        ? undefined
        : seriesKey('modgate_auth_total', { method: s.authMethod ?? 'basic', result: s.authResult }),
    );
    expect(family('modgate_auth_total')).toEqual(expected);
  });

  it('modgate_policy_decisions_total counts each decision', () => {
    const expected = tally((s) =>
      s.decision === undefined
        ? undefined
        : seriesKey('modgate_policy_decisions_total', { decision: s.decision, dry_run: '' }),
    );
    expect(family('modgate_policy_decisions_total')).toEqual(expected);
  });

  it('directory calls: one per distinct credential, the cache and negative cache absorb the rest', () => {
    const distinct = (pick: (a: Auth) => string | undefined) =>
      new Set(SCRIPT.map((s) => pick(s.auth)).filter((k) => k !== undefined)).size;
    const goodUsers = distinct((a) => (a.kind === 'user' && !a.user.disabled ? a.user.name : undefined));
    const wrongPasswords = distinct((a) => (a.kind === 'wrong' ? `${a.user.name}:${a.password}` : undefined));
    const disabled = SCRIPT.filter((s) => s.auth.kind === 'user' && s.auth.user.disabled).length;
    const key = (result: string) =>
      seriesKey('modgate_directory_call_duration_seconds_count', {
        directory: 'ldap',
        operation: 'verify',
        result,
      });
    const expected: Record<string, number> = {
      [key('ok')]: goodUsers,
      [key('auth.invalid_credentials')]: wrongPasswords,
      [key('auth.user_disabled')]: disabled,
    };
    expect(goodUsers).toBe(2);
    expect(wrongPasswords).toBe(2);
    expect(family('modgate_directory_call_duration_seconds_count')).toEqual(expected);
  });

  it('nothing failed over: the breaker never opened, no policy reload happened', () => {
    expect(family('modgate_upstream_circuit_state')).toEqual({});
    expect(family('modgate_policy_reloads_total')).toEqual({});
    expect(metrics.get('modgate_ready{}')).toBe(1);
  });
});
