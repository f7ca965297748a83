/**
 * `modgate doctor` against a real stack (slapd, Athens emulator, gateway with
 * a private route) with a temporary HOME and the real go command: a good
 * setup passes; each broken piece (`|direct`, no netrc, netrc mode 0644, a
 * host:port-only netrc for go 1.19, an untrusted CA, a wrong password, a
 * disabled account, GONOPROXY from GOPRIVATE) is reported with its fix and a
 * non-zero exit; and a setup broken four ways is all good after the printed
 * fixes are run. Plus the parsers doctor relies on, table-driven.
 */
import { execFile } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorCommand } from '../bin/commands/doctor.ts';
import {
  globsCover,
  globsTouching,
  netrcMachineFor,
  parseGoproxy,
  parseGoVersion,
} from '../client/go-env.ts';
import { parseNetrc } from '../client/netrc.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, GO, type GoBinary, type GoEnv, matchesNetrcPort, writeNetrc } from '../harness/go.ts';
import { netrcMachines, type Stack, startStack } from './support/stack.ts';

const execFileAsync = promisify(execFile);

const PRIVATE = 'corp.example/*';
const POLICY = `default: allow
rules: []
routes:
  - name: corp
    modules: ["${PRIVATE}"]
    upstream: athens
    private: true
`;
const alice = { login: USERS.alice.name, password: USERS.alice.password };

let stack: Stack;
let envs = 0;

beforeAll(async () => {
  stack = await startStack({ directory: 'ldap', upstream: 'athens', policy: POLICY });
});

afterAll(async () => {
  await stack?.close();
});

/** A go environment that doctor should find all good, unless `edit` breaks it. */
async function setup(
  edit: (env: Record<string, string | undefined>, goEnv: GoEnv) => void | Promise<void> = () => {},
): Promise<{ env: Record<string, string | undefined>; goEnv: GoEnv }> {
  envs += 1;
  const goEnv = await stack.goEnv(`doctor-${envs}`, alice);
  const env: Record<string, string | undefined> = { ...goEnv.env, GONOSUMDB: PRIVATE };
  delete env.GOSUMDB; // doctor checks GONOSUMDB against the default checksum database
  await edit(env, goEnv);
  return { env, goEnv };
}

async function doctor(
  setupResult: { env: Record<string, string | undefined>; goEnv: GoEnv },
  ...argv: string[]
): Promise<{ code: number; out: string; lines: string[] }> {
  return doctorWith(GO, setupResult, ...argv);
}

async function doctorWith(
  go: GoBinary,
  setupResult: { env: Record<string, string | undefined>; goEnv: GoEnv },
  ...argv: string[]
): Promise<{ code: number; out: string; lines: string[] }> {
  let out = '';
  const code = await doctorCommand(
    argv,
    {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        out += t;
      },
    },
    { env: setupResult.env, homeDir: setupResult.goEnv.home, goBinary: go.path },
  );
  return { code, out, lines: out.split('\n').filter(Boolean) };
}

function lineOf(out: string, prefix: string): string {
  const found = out.split('\n').find((l) => l.startsWith(prefix));
  if (found === undefined) throw new Error(`no line starting with ${JSON.stringify(prefix)} in:\n${out}`);
  return found;
}

describe('doctor on a good setup', () => {
  it.each(CLIENT_GOS.map((go) => [go.version, go] as const))(
    'with %s: prints one ok line per check and exits 0',
    async (_v, go) => {
      const s = await setup();
      const url = stack.gateway.url;
      const machine = matchesNetrcPort(go) ? new URL(url).host : '127.0.0.1';
      const matching = matchesNetrcPort(go) ? 'on host:port' : 'on the host name without port';
      const { code, lines } = await doctorWith(go, s, '--private', PRIVATE, '--module', 'example.com/hello');
      expect(lines).toEqual([
        `ok   go: ${go.version} (${go.path}); it matches netrc machines ${matching}`,
        `ok   GOPROXY: GOPROXY=${url}: modgate first`,
        `ok   private modules: GONOSUMDB=${PRIVATE} covers ${PRIVATE}; GONOPROXY leaves them to modgate`,
        `ok   netrc: ${s.goEnv.netrc}: machine ${machine} login alice (${go.version} looks up "machine ${machine}")`,
        expect.stringMatching(
          new RegExp(
            `^ok {3}tls ${url}: 127\\.0\\.0\\.1:\\d+ certificate issued by "CN=modgate test CA", valid until \\d{4}-\\d\\d-\\d\\d, trusted through SSL_CERT_FILE=${stack.pki.caCertPath}$`,
          ),
        ),
        `ok   probe ${url}/example.com/hello/@v/list: authenticated as alice; example.com/hello lists 3 versions`,
        'doctor: all good',
      ]);
      expect(code).toBe(0);
    },
  );

  it('takes the URL from GOPROXY, the private patterns from --policy, and probes any module', async () => {
    const s = await setup();
    const { code, out } = await doctor(s, '--policy', stack.policyPath);
    expect(lineOf(out, 'ok   private modules')).toContain(`covers ${PRIVATE}`);
    expect(lineOf(out, 'ok   probe')).toBe(
      `ok   probe ${stack.gateway.url}/golang.org/x/mod/@v/list: authenticated as alice; golang.org/x/mod is not in the upstream (404), fine for this check`,
    );
    expect(code).toBe(0);
  });

  it('without private patterns, says how to give them', async () => {
    const { code, out } = await doctor(await setup());
    expect(lineOf(out, 'skip private modules')).toContain("pass --private 'corp.example/*'");
    expect(code).toBe(0);
  });
});

describe('doctor reports each problem with its fix', () => {
  it("'|direct' after modgate", async () => {
    const s = await setup((env) => {
      env.GOPROXY = `${stack.gateway.url}|direct`;
    });
    const { code, out } = await doctor(s, '--private', PRIVATE);
    expect(lineOf(out, 'FAIL GOPROXY')).toBe(
      `FAIL GOPROXY: GOPROXY=${stack.gateway.url}|direct: '|' makes go try direct after any error from modgate, its denials (403) included, so the policy can be bypassed` +
        ` — fix: export GOPROXY=${stack.gateway.url}`,
    );
    expect(code).toBe(1);
  });

  it('a GOPROXY that asks another proxy first', async () => {
    const s = await setup((env) => {
      env.GOPROXY = `https://proxy.golang.org,${stack.gateway.url}`;
    });
    const { code, out } = await doctor(s, '--url', stack.gateway.url);
    expect(lineOf(out, 'FAIL GOPROXY')).toContain(
      "names https://proxy.golang.org before modgate: go asks it first, around modgate's policy",
    );
    expect(code).toBe(1);
  });

  it('no netrc file', async () => {
    const s = await setup(async (_env, goEnv) => {
      await rm(goEnv.netrc);
    });
    const { code, out } = await doctor(s);
    const netrc = s.goEnv.netrc;
    const port = new URL(stack.gateway.url).port;
    expect(lineOf(out, 'FAIL netrc')).toBe(
      `FAIL netrc: ${netrc} does not exist: go sends no credentials and modgate answers 401` +
        ` — fix: printf '%s\\n' 'machine 127.0.0.1 login <user> password <password>' 'machine 127.0.0.1:${port} login <user> password <password>' >> ${netrc} && chmod 600 ${netrc}`,
    );
    expect(lineOf(out, 'skip probe')).toContain('not tried: no credentials to send');
    expect(code).toBe(1);
  });

  it('a netrc readable by others', async () => {
    const s = await setup(async (_env, goEnv) => {
      await chmod(goEnv.netrc, 0o644);
    });
    const { code, out } = await doctor(s);
    expect(lineOf(out, 'FAIL netrc mode')).toBe(
      `FAIL netrc mode: ${s.goEnv.netrc} has mode 0644: other users can read your password — fix: chmod 600 ${s.goEnv.netrc}`,
    );
    expect(lineOf(out, 'ok   probe')).toContain('authenticated as alice');
    expect(code).toBe(1);
  });

  it.each(CLIENT_GOS.map((go) => [go.version, go] as const))(
    'with %s: a netrc entry only in the form the other go generation looks up',
    async (_v, go) => {
      const { host, hostname } = new URL(stack.gateway.url);
      const [wrong, wanted] = matchesNetrcPort(go) ? [hostname, host] : [host, hostname];
      const s = await setup(async (_env, goEnv) => {
        await writeNetrc(goEnv.netrc, [{ machine: wrong, ...alice }]);
      });
      const { code, out } = await doctorWith(go, s);
      expect(lineOf(out, 'FAIL netrc')).toBe(
        `FAIL netrc: ${s.goEnv.netrc} has "machine ${wrong}", but ${go.version} looks up "machine ${wanted}"` +
          ` — fix: printf '%s\\n' 'machine ${wanted} login alice password <password>' >> ${s.goEnv.netrc} && chmod 600 ${s.goEnv.netrc}`,
      );
      expect(code).toBe(1);
    },
  );

  it('a CA this machine does not trust', async () => {
    const s = await setup((env) => {
      delete env.SSL_CERT_FILE;
    });
    const { code, out } = await doctor(s);
    expect(lineOf(out, 'FAIL tls')).toMatch(
      /^FAIL tls https:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+ presents a certificate issued by "CN=modgate test CA", not trusted with the system CA certificates: its issuer is not a trusted CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); get the CA certificate "CN=modgate test CA" \(PEM\) from the modgate operators — fix: export SSL_CERT_FILE=<modgate-ca.pem>$/,
    );
    expect(lineOf(out, 'skip probe')).toContain('not tried: TLS must work first');
    expect(code).toBe(1);
  });

  it('an SSL_CERT_FILE that does not exist', async () => {
    const s = await setup((env) => {
      env.SSL_CERT_FILE = join(stack.dir, 'no-such-ca.pem');
    });
    const { code, out } = await doctor(s);
    expect(lineOf(out, 'FAIL tls')).toContain(
      `SSL_CERT_FILE=${join(stack.dir, 'no-such-ca.pem')} cannot be read (ENOENT)`,
    );
    expect(code).toBe(1);
  });

  it('a wrong password', async () => {
    const s = await setup(async (_env, goEnv) => {
      await writeNetrc(
        goEnv.netrc,
        netrcMachines(stack.gateway.url, 'both').map((machine) => ({
          machine,
          login: 'alice',
          password: 'not-alices-password',
        })),
      );
    });
    const { code, out } = await doctor(s);
    const machine = matchesNetrcPort(GO) ? new URL(stack.gateway.url).host : '127.0.0.1';
    expect(lineOf(out, 'FAIL probe')).toBe(
      `FAIL probe ${stack.gateway.url}/golang.org/x/mod/@v/list: modgate refused the credentials of ${s.goEnv.netrc} (machine ${machine}) (401): "modgate: invalid username or password"` +
        ` — fix: put your current password for alice in ${s.goEnv.netrc} (machine ${machine})`,
    );
    expect(out).not.toContain('not-alices-password');
    expect(code).toBe(1);
  });

  it('a disabled account', async () => {
    const s = await setup(async (_env, goEnv) => {
      await writeNetrc(
        goEnv.netrc,
        netrcMachines(stack.gateway.url, 'both').map((machine) => ({
          machine,
          login: 'carol',
          password: USERS.carol.password,
        })),
      );
    });
    const { code, out } = await doctor(s);
    expect(lineOf(out, 'FAIL probe')).toContain('modgate answered 403: "modgate: user account is disabled"');
    expect(code).toBe(1);
  });

  it('GOPRIVATE without GONOPROXY=none sends private modules around modgate', async () => {
    const s = await setup((env) => {
      delete env.GONOSUMDB;
      env.GOPRIVATE = 'corp.example';
    });
    const { code, out } = await doctor(s, '--private', PRIVATE);
    expect(lineOf(out, 'FAIL private modules')).toBe(
      'FAIL private modules: GONOPROXY (defaults to GOPRIVATE)=corp.example sends corp.example straight to version control, around modgate' +
        ' — fix: export GONOPROXY=none', // GOENV=off here: `go env -w` would not take effect
    );
    expect(code).toBe(1);
    s.env.GONOPROXY = 'none';
    const fixed = await doctor(s, '--private', PRIVATE);
    expect(lineOf(fixed.out, 'ok   private modules')).toBe(
      `ok   private modules: GONOSUMDB=corp.example covers ${PRIVATE}; GONOPROXY leaves them to modgate`,
    );
  });

  it('both GONOPROXY and GONOSUMDB wrong: one line, both fixes', async () => {
    const s = await setup((env) => {
      env.GONOSUMDB = 'other.example';
      env.GONOPROXY = 'corp.example/team-a';
    });
    const { code, out } = await doctor(s, '--private', PRIVATE);
    expect(lineOf(out, 'FAIL private modules')).toBe(
      'FAIL private modules: GONOPROXY=corp.example/team-a sends corp.example/team-a straight to version control, around modgate; ' +
        `GONOSUMDB does not cover ${PRIVATE} (it is other.example): go would ask sum.golang.org about private module paths, which modgate refuses` +
        ` — fix: export GONOPROXY=none && export GONOSUMDB='other.example,${PRIVATE}'`,
    );
    expect(code).toBe(1);
  });

  it('a go command that is not there', async () => {
    const s = await setup();
    const { code, out } = await doctor(s, '--go', join(stack.dir, 'no-go'));
    expect(lineOf(out, 'FAIL go')).toBe(
      `FAIL go: cannot run ${join(stack.dir, 'no-go')}: not found — fix: install Go (https://go.dev/dl/) and put it on PATH, or pass --go PATH`,
    );
    expect(code).toBe(1);
  });

  it('no modgate URL anywhere', async () => {
    const s = await setup((env) => {
      env.GOPROXY = 'https://proxy.golang.org,direct';
    });
    const { code, lines } = await doctor(s);
    expect(lines.slice(1)).toEqual([
      'FAIL modgate: no modgate URL: GOPROXY=https://proxy.golang.org,direct names none but the public proxy' +
        ' — fix: modgate doctor --url https://<modgate host>   (ask your platform team for it)',
      "doctor: 1 problem: run the fixes above, then 'modgate doctor' again",
    ]);
    expect(code).toBe(1);
  });
});

describe('doctor on a setup broken four ways', () => {
  it('reports each, and all good once the printed fixes are run', async () => {
    const url = stack.gateway.url;
    const s = await setup(async (env, goEnv) => {
      // GOPROXY comes from the go env file, so its fix is `go env -w`.
      env.GOENV = join(goEnv.home, 'go.env');
      delete env.GOPROXY;
      delete env.GONOSUMDB;
      delete env.SSL_CERT_FILE;
      await writeFile(env.GOENV, `GOPROXY=${url}|direct\n`);
      await rm(goEnv.netrc);
    });
    const first = await doctor(s, '--url', url, '--policy', stack.policyPath);
    const failures = first.lines.filter((l) => l.startsWith('FAIL '));
    expect(failures.map((l) => l.split(':')[0])).toEqual([
      'FAIL GOPROXY',
      'FAIL private modules',
      'FAIL netrc',
      'FAIL tls https',
    ]);
    const fixes = failures.map((l) => l.slice(l.indexOf(' — fix: ') + ' — fix: '.length));
    expect(fixes).toEqual([
      `go env -w GOPROXY=${url}`,
      `go env -w GONOSUMDB='${PRIVATE}'`,
      expect.stringMatching(/^printf '%s\\n' 'machine 127\.0\.0\.1 login <user> password <password>' /),
      'export SSL_CERT_FILE=<modgate-ca.pem>',
    ]);
    expect(first.code).toBe(1);

    for (const line of failures) {
      const fix = line.slice(line.indexOf(' — fix: ') + ' — fix: '.length);
      const command = fix
        .replaceAll('<user>', alice.login)
        .replaceAll('<password>', alice.password)
        .replaceAll('<modgate-ca.pem>', stack.pki.caCertPath);
      const exported = /^export ([A-Z_]+)=(.*)$/.exec(command);
      if (exported) s.env[exported[1]!] = exported[2]!.replace(/^'(.*)'$/, '$1');
      else {
        const env = Object.fromEntries(
          Object.entries(s.env).filter((e): e is [string, string] => e[1] !== undefined),
        );
        await execFileAsync('/bin/sh', ['-c', command], { env });
      }
    }
    const second = await doctor(s, '--url', url, '--policy', stack.policyPath);
    expect(second.out).toMatch(/^doctor: all good$/m);
    expect(second.code).toBe(0);
  });
});

describe('what doctor reads, the way go reads it', () => {
  it.each([
    ['go1.19.8', { major: 1, minor: 19 }],
    ['go1.24rc1', { major: 1, minor: 24 }],
    ['devel go1.25-4b3a2 +0000', { major: 1, minor: 25 }],
    ['gccgo', undefined],
  ])('parseGoVersion(%j)', (text, release) => {
    expect(parseGoVersion(text)).toEqual(release);
  });

  it.each([
    ['go 1.19, with a port', 'go1.19.8', 'https://goproxy.corp:8443', 'goproxy.corp'],
    ['go 1.24, with a port', 'go1.24.0', 'https://goproxy.corp:8443', 'goproxy.corp:8443'],
    ['go 1.24, no port', 'go1.24.0', 'https://goproxy.corp', 'goproxy.corp'],
  ])('netrc machine: %s', (_name, version, url, machine) => {
    expect(netrcMachineFor(new URL(url), parseGoVersion(version)!)).toBe(machine);
  });

  it('parseGoproxy keeps each separator', () => {
    expect(parseGoproxy('https://a|https://b,direct')).toEqual([
      { value: 'https://a', separator: '|' },
      { value: 'https://b', separator: ',' },
      { value: 'direct', separator: undefined },
    ]);
    expect(parseGoproxy('https://a,')).toEqual([{ value: 'https://a', separator: undefined }]);
  });

  it.each([
    ['corp.example', 'corp.example/*', true],
    ['corp.example/*', 'corp.example/*', true],
    ['*.example', 'corp.example/*', true],
    ['corp.example/team-a', 'corp.example/*', false],
    ['other.example,corp.example', 'corp.example/team-a', true],
    ['', 'corp.example', false],
  ])('GONOSUMDB=%j covers %j: %s', (globs, pattern, covered) => {
    expect(globsCover(globs, pattern)).toBe(covered);
  });

  it('globsTouching finds GONOPROXY entries narrower or wider than a private pattern', () => {
    expect(globsTouching('corp.example/team-a,github.com/x', 'corp.example/*')).toEqual([
      'corp.example/team-a',
    ]);
    expect(globsTouching('corp.example', 'corp.example/*')).toEqual(['corp.example']);
    expect(globsTouching('none', 'corp.example/*')).toEqual([]);
  });

  it('parseNetrc follows go: complete entries only, macdef skipped, default ends the file', () => {
    const text = [
      'machine a.example login alice password pw1',
      'machine b.example',
      '  login bob',
      '  password pw2',
      'machine incomplete.example login carol',
      'macdef init',
      'machine in-macro.example login x password y',
      '',
      'machine c.example login dave password pw3',
      'default',
      'machine after-default.example login e password f',
    ].join('\n');
    expect(parseNetrc(text)).toEqual([
      { machine: 'a.example', login: 'alice', password: 'pw1' },
      { machine: 'b.example', login: 'bob', password: 'pw2' },
      { machine: 'c.example', login: 'dave', password: 'pw3' },
    ]);
  });
});
