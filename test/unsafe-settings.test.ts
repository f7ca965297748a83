/**
 * Opt-in unsafe settings are warned about: every key the
 * gateway.yaml and policy schemas mark unsafe prints one warning line in
 * `check-config` and at start. The keys are enumerated from the schemas'
 * metadata, and every key named like an unsafe opt-in must carry the mark, so
 * a new one cannot be added silently.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkConfigCommand } from '../bin/commands/check-config.ts';
import { unsafeKeys } from '../core/unsafe-settings.ts';
import { gatewayConfigSchema } from '../gateway/config/schema.ts';
import { policyFileSchema } from '../policies/schema.ts';
import { type Stack, startStack } from './support/stack.ts';

/** A gateway.yaml that turns on every unsafe setting (names: athens, mint). */
const ALL_UNSAFE = `listen:
  public_url: https://goproxy.test:8443
tls:
  behind_tls_terminator: true
directory:
  ldap:
    url: ldaps://127.0.0.1:1
    insecure_skip_verify: true
    bind_dn: cn=modgate,dc=example,dc=org
    bind_password: env:MODGATE_TEST_UNSAFE_SECRET
    user_base: ou=people,dc=example,dc=org
    user_filter: (uid={username})
upstreams:
  athens:
    kind: athens
    url: http://127.0.0.1:1
    allow_insecure_http: true
credentials:
  mint:
    kind: artifactory-token
    url: http://127.0.0.1:1
    admin_token: env:MODGATE_TEST_UNSAFE_SECRET
    allow_insecure_http: true
default_upstream: athens
policy:
  path: policy.yaml
state:
  kind: redis
  url: rediss://127.0.0.1:1
  tls: { insecure_skip_verify: true }
jwt:
  allow_insecure_http: true
  issuers:
    - issuer: http://127.0.0.1:1
      audiences: [modgate]
personal_tokens:
  issuer: https://goproxy.test:8443
  keys: [{ kid: k1, pem: env:MODGATE_TEST_UNSAFE_SECRET }]
sso:
  issuer: http://127.0.0.1:1
  client_id: modgate
  client_secret: env:MODGATE_TEST_UNSAFE_SECRET
  session_key: env:MODGATE_TEST_UNSAFE_SESSION_KEY
  allow_insecure_http: true
`;

const DRY_RUN_POLICY = `default: deny
mode: dry-run
rules:
  - name: trial
    subjects: ["*"]
    modules: ["example.com"]
    action: allow
    mode: dry-run
`;

/** Where a schema key (`upstreams.<name>.x`, `rules[].mode`) is in the fixtures above. */
const concrete = (key: string) =>
  key
    .replace('upstreams.<name>', 'upstreams.athens')
    .replace('credentials.<name>', 'credentials.mint')
    .replace('[]', '[0]');

interface JsonNode {
  unsafe?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonNode>;
  additionalProperties?: JsonNode | boolean;
  items?: JsonNode;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
}

/** Every key of a schema with its JSON Schema node (independent of core/unsafe-settings.ts's walk). */
function allKeys(schema: z.ZodType): { key: string; node: JsonNode }[] {
  const out: { key: string; node: JsonNode }[] = [];
  const visit = (node: JsonNode, key: string) => {
    if (key !== '') out.push({ key, node });
    for (const [k, child] of Object.entries(node.properties ?? {})) visit(child, key ? `${key}.${k}` : k);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${key}.<name>`);
    if (node.items) visit(node.items, `${key}[]`);
    for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) visit(alt, key);
  };
  visit(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode, '');
  return out;
}

/** Keys that look unsafe but are not, and why. */
const NOT_UNSAFE = new Set([
  // A rule in dry-run weakens nothing that is enforced: it is how a new deny is tried out.
  'rules[].mode',
]);

describe('every opt-in unsafe key is marked in its schema', () => {
  it.each([
    ['gateway.yaml', gatewayConfigSchema],
    ['the policy file', policyFileSchema],
  ])(
    '%s: keys named insecure/skip_verify/behind_tls, and dry-run modes, carry the unsafe mark',
    (_, schema) => {
      const looksUnsafe = allKeys(schema).filter(
        ({ key, node }) =>
          /insecure|skip_verify|behind_tls|unsafe|no_verify/.test(key) ||
          (node.enum ?? []).includes('dry-run'),
      );
      expect(looksUnsafe.length).toBeGreaterThan(0);
      const unmarked = looksUnsafe.filter(({ node }) => node.unsafe === undefined).map(({ key }) => key);
      expect(unmarked.filter((key) => !NOT_UNSAFE.has(key))).toEqual([]);
    },
  );
});

describe('check-config warns once per unsafe setting', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-unsafe-'));
    await writeFile(join(dir, 'gateway.yaml'), ALL_UNSAFE);
    await writeFile(join(dir, 'policy.yaml'), DRY_RUN_POLICY);
    process.env.MODGATE_TEST_UNSAFE_SECRET = 'x';
    process.env.MODGATE_TEST_UNSAFE_SESSION_KEY = 'a-session-key-of-at-least-32-characters';
  });

  it('every key the schemas mark unsafe is named on its own WARN line', async () => {
    let out = '';
    const code = await checkConfigCommand(['--offline', '--config', join(dir, 'gateway.yaml')], {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        out += t;
      },
    });
    expect(out).not.toMatch(/^FAIL config/m);
    const gatewayKeys = unsafeKeys(gatewayConfigSchema).map((k) => concrete(k.key));
    expect([...gatewayKeys].sort()).toEqual([
      'credentials.mint.allow_insecure_http',
      'directory.ldap.insecure_skip_verify',
      'jwt.allow_insecure_http',
      'sso.allow_insecure_http',
      'state.tls.insecure_skip_verify',
      'tls.behind_tls_terminator',
      'upstreams.athens.allow_insecure_http',
    ]);
    for (const key of gatewayKeys) {
      // The fixture must turn on every marked key: a new unsafe key needs a line in ALL_UNSAFE.
      const warns = out
        .split('\n')
        .filter((l) => l.startsWith('WARN unsafe: ') && l.includes(`unsafe setting ${key}: `));
      expect(warns, `${key} in:\n${out}`).toHaveLength(1);
    }
    const policyKeys = unsafeKeys(policyFileSchema).map((k) => concrete(k.key));
    expect(policyKeys).toEqual(['mode']);
    for (const key of policyKeys) {
      expect(out).toMatch(
        new RegExp(
          `policy\\.yaml:\\d+: warning: unsafe setting ${key.replace(/[[\]]/g, '\\$&')}: dry-run \\(`,
        ),
      );
    }
    expect(out).toMatch(/^check-config: no failures, \d+ warnings$/m);
    expect(code).toBe(0);
  });
});

describe('serve warns once at start', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The stack's Athens upstream is plain http (allow_insecure_http: true).
    stack = await startStack({ directory: 'file', upstream: 'athens', policy: DRY_RUN_POLICY });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('logs one warning line per unsafe setting of gateway.yaml and of the policy', async () => {
    const lines = (await stack.gateway.logText())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number | string; msg: string });
    const warned = (pattern: RegExp) => lines.filter((l) => pattern.test(l.msg));
    const upstream = warned(/unsafe setting upstreams\.athens\.allow_insecure_http: true \(/);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.msg).toMatch(/gateway\.yaml:\d+: warning: /);
    expect(warned(/policy\.yaml:\d+: warning: unsafe setting mode: dry-run \(/)).toHaveLength(1);
  });
});
