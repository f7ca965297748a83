/** gateway.yaml validation: every problem at once, with key path and line; secrets only by reference. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../core/duration.ts';
import { isModgateError } from '../core/errors.ts';
import { settingsFromYaml } from '../gateway/config/load.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-config-'));
  await writeFile(join(dir, 'cert.pem'), 'CERT\n');
  await writeFile(join(dir, 'key.pem'), 'KEY\n');
});

const valid = `listen:
  port: 9443
tls:
  cert: file:cert.pem
  key: file:key.pem
directory:
  file:
    path: users.yaml
upstreams:
  athens:
    kind: athens
    url: https://athens.internal:3000/prefix
    username: modgate
    password: env:MODGATE_TEST_ATHENS_PW
    timeout: 1m30s
default_upstream: athens
policy:
  path: policy.yaml
`;

function problems(text: string): string[] {
  try {
    settingsFromYaml(join(dir, 'gateway.yaml'), text);
  } catch (err) {
    if (isModgateError(err, 'config.invalid')) return err.message.split('\n').slice(1);
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('gateway.yaml', () => {
  it('a valid file resolves secrets, relative paths and durations, and is frozen', () => {
    process.env.MODGATE_TEST_ATHENS_PW = 'pw-from-env';
    const s = settingsFromYaml(join(dir, 'gateway.yaml'), valid);
    expect(s.listen).toEqual({
      host: '127.0.0.1',
      port: 9443,
      publicUrl: undefined,
      trustedProxies: [],
      headersTimeoutMs: 20_000,
    });
    expect(s.tls).toEqual({ cert: 'CERT', key: 'KEY' });
    expect(s.directory).toEqual({ kind: 'file', path: join(dir, 'users.yaml') });
    const up = s.upstreams.athens;
    expect(up?.kind === 'athens' && up.basicAuth).toEqual({ username: 'modgate', password: 'pw-from-env' });
    expect(up?.kind === 'athens' && up.timeoutMs).toBe(90_000);
    expect(s.auth.cacheTtlMs).toBe(300_000);
    expect(Object.isFrozen(s.upstreams)).toBe(true);
  });

  it('reports every problem at once, each with its key path and line', () => {
    const text = valid
      .replace('  port: 9443', '  port: 9443\n  prot: 1')
      .replace('timeout: 1m30s', 'timeout: soon')
      .replace('default_upstream: athens', 'default_upstream: athens\nextra: true');
    const found = problems(text);
    expect(found).toEqual([
      expect.stringMatching(/gateway\.yaml:3: listen\.prot: unknown key$/),
      expect.stringMatching(/gateway\.yaml:16: upstreams\.athens\.timeout: "soon" is not a duration/),
      expect.stringMatching(/gateway\.yaml:18: extra: unknown key$/),
    ]);
  });

  it('an alias without an anchor is a config problem, not a crash', () => {
    expect(problems(`${valid}log: *nowhere\n`)).toEqual([
      expect.stringMatching(/gateway\.yaml: \(document\): .*nowhere/),
    ]);
  });

  it('rejects a literal secret', () => {
    expect(problems(valid.replace('env:MODGATE_TEST_ATHENS_PW', 'hunter2'))).toEqual([
      expect.stringMatching(/:14: upstreams\.athens\.password: must be a reference, env:NAME or file:\/path/),
    ]);
  });

  it('names an unresolvable secret reference, never a value', () => {
    delete process.env.MODGATE_TEST_ATHENS_PW;
    expect(problems(valid)).toEqual([
      expect.stringMatching(
        /:14: upstreams\.athens\.password: environment variable MODGATE_TEST_ATHENS_PW is not set$/,
      ),
    ]);
    expect(
      problems(
        valid
          .replace('file:key.pem', 'file:missing.pem')
          .replace('env:MODGATE_TEST_ATHENS_PW', 'file:cert.pem'),
      ),
    ).toEqual([expect.stringMatching(/:5: tls\.key: cannot read .*missing\.pem \(ENOENT\)$/)]);
  });

  it('cross-checks: default upstream must exist; plain http needs the opt-in; username needs password', () => {
    process.env.MODGATE_TEST_ATHENS_PW = 'x';
    const text = valid
      .replace('https://athens', 'http://athens')
      .replace('default_upstream: athens', 'default_upstream: nope')
      .replace('    password: env:MODGATE_TEST_ATHENS_PW\n', '');
    expect(problems(text)).toEqual([
      expect.stringMatching(/:15: default_upstream: names no upstream \(defined: athens\)/),
      expect.stringMatching(/:12: upstreams\.athens\.url: is plain http; set allow_insecure_http: true/),
      expect.stringMatching(/:10: upstreams\.athens: username and password go together/),
    ]);
  });

  it('sso: needs public_url and personal_tokens, an https issuer unless opted out, a long session key, a token_ttl within the personal-token maximum', () => {
    process.env.MODGATE_TEST_ATHENS_PW = 'x';
    process.env.MODGATE_TEST_SSO_SECRET = 'client-secret';
    process.env.MODGATE_TEST_SESSION_KEY = 'too-short';
    const sso = `sso:
  issuer: http://idp.internal
  client_id: modgate
  client_secret: env:MODGATE_TEST_SSO_SECRET
  session_key: env:MODGATE_TEST_SESSION_KEY
  token_ttl: 2400h
`;
    expect(problems(valid + sso)).toEqual([
      expect.stringMatching(/:19: sso: needs listen\.public_url/),
      expect.stringMatching(/:19: sso: needs personal_tokens/),
      expect.stringMatching(/:24: sso\.token_ttl: is longer than personal tokens may live \(2160h\)/),
      expect.stringMatching(/:20: sso\.issuer: is plain http; set allow_insecure_http: true/),
    ]);
    const complete = valid.replace(
      '  port: 9443\n',
      '  port: 9443\n  public_url: https://goproxy.test:9443\n',
    );
    const keys =
      'personal_tokens:\n  issuer: https://goproxy.test:9443\n  keys: [{ kid: k1, pem: file:key.pem }]\n';
    const fine = sso.replace('token_ttl: 2400h', 'allow_insecure_http: true');
    expect(problems(complete + keys + fine)).toEqual([
      expect.stringMatching(/sso\.session_key: must be at least 32 characters/),
    ]);
    process.env.MODGATE_TEST_SESSION_KEY = 'a-session-key-of-at-least-32-characters';
    const s = settingsFromYaml(join(dir, 'gateway.yaml'), complete + keys + fine);
    expect(s.sso).toMatchObject({
      redirectUri: 'https://goproxy.test:9443/login/callback',
      publicUrl: 'https://goproxy.test:9443',
      clientSecret: 'client-secret',
      tokenTtlMs: 30 * 86_400_000,
      scopes: ['openid', 'profile'],
    });
  });

  describe('jwt.introspection', () => {
    /** The allowlist the valid cases carry, after `lines` (so the lines above keep their numbers). */
    const allowlist = '    client_ids: [modgate-cli]\n';
    const introspection = (lines: string, jwt = '', allow = allowlist) =>
      `${valid}jwt:\n${jwt}  introspection:\n    issuer: https://idp.internal\n    modgate_client_id: modgate\n${lines}${allow}`;
    const secret = '    client_secret: env:MODGATE_TEST_INTROSPECTION_SECRET\n';

    it('maps to settings with defaults, the secret resolved, and no JWT issuers needed', () => {
      process.env.MODGATE_TEST_ATHENS_PW = 'x';
      process.env.MODGATE_TEST_INTROSPECTION_SECRET = 'introspection-secret';
      const s = settingsFromYaml(join(dir, 'gateway.yaml'), introspection(secret));
      expect(s.jwt?.issuers).toEqual([]);
      expect(s.jwt?.introspection).toEqual({
        issuer: 'https://idp.internal',
        modgateClientId: 'modgate',
        clientSecret: 'introspection-secret',
        audiences: [],
        clientIds: ['modgate-cli'],
        userClaim: 'username',
        stripSuffix: undefined,
        netrcLogin: 'oauth2accesstoken',
        cacheMaxTtlMs: 300_000,
      });
      const tuned = settingsFromYaml(
        join(dir, 'gateway.yaml'),
        introspection(
          `${secret}    user_claim: sub\n    strip_suffix: '@corp.example'\n    netrc_login: token\n    cache_max_ttl: 30s\n`,
          '',
          '    audiences: [https://goproxy.corp.example]\n    client_ids: [modgate-cli, modgate-login]\n',
        ),
      );
      expect(tuned.jwt?.introspection).toMatchObject({
        audiences: ['https://goproxy.corp.example'],
        clientIds: ['modgate-cli', 'modgate-login'],
        userClaim: 'sub',
        stripSuffix: '@corp.example',
        netrcLogin: 'token',
        cacheMaxTtlMs: 30_000,
      });
    });

    it.each([
      [
        'a plain-http issuer without the opt-in',
        introspection(secret).replace('https://idp', 'http://idp'),
        [/:21: jwt\.introspection\.issuer: is plain http; set jwt\.allow_insecure_http: true/],
      ],
      [
        'a literal client secret',
        introspection('    client_secret: hunter2\n'),
        [/:23: jwt\.introspection\.client_secret: must be a reference/],
      ],
      [
        'an unresolvable client secret',
        introspection('    client_secret: env:MODGATE_TEST_UNSET_SECRET\n'),
        [
          /:23: jwt\.introspection\.client_secret: environment variable MODGATE_TEST_UNSET_SECRET is not set$/,
        ],
      ],
      [
        'no client secret and an unknown key',
        introspection('    audience: goproxy\n'),
        [/:20: jwt\.introspection\.client_secret: /, /:23: jwt\.introspection\.audience: unknown key$/],
      ],
      [
        'a cache_max_ttl that is not a duration',
        introspection(`${secret}    cache_max_ttl: forever\n`),
        [/:24: jwt\.introspection\.cache_max_ttl: "forever" is not a duration/],
      ],
      [
        'introspection without audiences or client_ids (any client’s token would do)',
        introspection(secret, '', ''),
        [/:20: jwt\.introspection: needs audiences or client_ids: without them, a token the IdP issued/],
      ],
      [
        'introspection with both allowlists empty',
        introspection(secret, '', '    audiences: []\n    client_ids: []\n'),
        [/:20: jwt\.introspection: needs audiences or client_ids/],
      ],
      [
        'an empty client id in the allowlist',
        introspection(secret, '', "    client_ids: ['']\n"),
        [/:24: jwt\.introspection\.client_ids\[0\]: Too small/],
      ],
      [
        'the renamed client_id (modgate’s own client): the new name, and no missing-key noise',
        introspection(secret).replace('modgate_client_id:', 'client_id:'),
        [/:22: jwt\.introspection\.client_id: was renamed to jwt\.introspection\.modgate_client_id$/],
      ],
      [
        'the renamed client_id beside its new name, and another problem: each once',
        introspection(`${secret}    client_id: modgate\n    user_claim: ''\n`),
        [
          /:25: jwt\.introspection\.user_claim: Too small/,
          /:24: jwt\.introspection\.client_id: was renamed to jwt\.introspection\.modgate_client_id$/,
        ],
      ],
      [
        'an unknown key that is an Object.prototype member name',
        `${valid}toString: x\n`,
        [/:19: toString: unknown key$/],
      ],
      [
        'a jwt section with neither issuers nor introspection',
        `${valid}jwt:\n  clock_skew: 1m\n`,
        [/:19: jwt: needs issuers \(JWTs\) or introspection \(opaque tokens\)$/],
      ],
    ])('rejects %s', (_name, text, expected) => {
      process.env.MODGATE_TEST_ATHENS_PW = 'x';
      process.env.MODGATE_TEST_INTROSPECTION_SECRET = 'introspection-secret';
      delete process.env.MODGATE_TEST_UNSET_SECRET;
      expect(problems(text)).toEqual(expected.map((re) => expect.stringMatching(re)));
    });

    it('accepts a plain-http issuer with jwt.allow_insecure_http', () => {
      process.env.MODGATE_TEST_INTROSPECTION_SECRET = 'introspection-secret';
      const text = introspection(secret, '  allow_insecure_http: true\n').replace(
        'https://idp',
        'http://idp',
      );
      expect(settingsFromYaml(join(dir, 'gateway.yaml'), text).jwt?.introspection?.issuer).toBe(
        'http://idp.internal',
      );
    });
  });

  it('checksum_databases: sum.golang.org by default, else the operator’s list, each a host name', () => {
    process.env.MODGATE_TEST_ATHENS_PW = 'x';
    expect(settingsFromYaml(join(dir, 'gateway.yaml'), valid).checksumDatabases).toEqual(['sum.golang.org']);
    const listed = `${valid}checksum_databases: [sum.golang.org, sum.golang.google.cn]\n`;
    expect(settingsFromYaml(join(dir, 'gateway.yaml'), listed).checksumDatabases).toEqual([
      'sum.golang.org',
      'sum.golang.google.cn',
    ]);
    expect(problems(`${valid}checksum_databases: [sum.golang.org/x]\n`)).toEqual([
      expect.stringMatching(
        /:19: checksum_databases\[0\]: a checksum database host name, e\.g\. sum\.golang\.org$/,
      ),
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('listen:\n  port: [1\n')).toEqual([
      expect.stringMatching(/gateway\.yaml:\d+: \(document\): /),
    ]);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['72h', 259_200_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '5', 's', '-1s', '1d', '1 s', '1s2'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
