/**
 * A real OpenLDAP slapd for tests: mdb backend with the memberof overlay,
 * loaded with harness/fixtures/directory.ldif, listening on 127.0.0.1 only, run
 * in the foreground with the stats log on stderr so tests can count binds.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LdapDirectoryOptions } from '../auth/ldap-directory.ts';
import { type Daemon, startDaemon } from './daemon.ts';
import { BASE_DN, GROUPS_DN, PEOPLE_DN, SERVICE_ACCOUNT } from './directory-fixture.ts';
import { freePort, LOOPBACK_V4 } from './ports.ts';
import { type BindRecord, parseBinds, sameDn } from './slapd-log.ts';
import { makeTestPki } from './tls.ts';

const execFileAsync = promisify(execFile);

/** Debian's slapd, its loadable modules and its schema files. */
const SLAPD = '/usr/sbin/slapd';
const MODULE_DIR = '/usr/lib/ldap';
const SCHEMA_DIR = '/etc/ldap/schema';
const FIXTURE_LDIF = new URL('./fixtures/directory.ldif', import.meta.url).pathname;
/** Upper bound for one ldapadd/ldapmodify run (milliseconds). */
const LDAP_TOOL_TIMEOUT_MS = 10_000;
/** Quiet time after which slapd's log is taken as caught up (milliseconds). */
const LOG_SETTLE_MS = 60;
/** At most this many quiet-time waits for the log to catch up (a count). */
const LOG_SETTLE_MAX_WAITS = 20;
/** Debug level 256 = "stats": connections, operations and their results. */
const STATS_DEBUG_LEVEL = '256';

const ROOT_DN = `cn=admin,${BASE_DN}`;
const ROOT_PASSWORD = 'root-test-pw';

/** A running slapd; see `startSlapd`. */
export interface Slapd {
  /** `ldap://127.0.0.1:<port>` (StartTLS available when started with `tls`). */
  readonly url: string;
  /** `ldaps://127.0.0.1:<port>` when started with `tls`. */
  readonly ldapsUrl: string | undefined;
  /** PEM of the CA that signed slapd's certificate, when started with `tls`. */
  readonly caPem: string | undefined;
  /** The service account modgate binds as. */
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly baseDn: string;
  /** Successful binds (err=0) as `dn`, counted from the stats log of every run. */
  countBinds(dn: string): Promise<number>;
  /** Every simple bind slapd answered, from the stats log of every run, oldest first. */
  binds(): Promise<BindRecord[]>;
  /** Applies LDIF change records with ldapmodify as the rootdn. */
  modify(ldif: string): Promise<void>;
  /** Stops slapd (data kept); `restart` starts it again on the same port. */
  stop(): Promise<void>;
  /** Like `stop`, with SIGKILL: connections reset, nothing closed politely. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Stops slapd and deletes its directory. */
  dispose(): Promise<void>;
}

function slapdConf(dir: string, tlsDir: string | undefined): string {
  const tls =
    tlsDir === undefined
      ? []
      : [
          `TLSCACertificateFile ${join(tlsDir, 'ca.pem')}`,
          `TLSCertificateFile ${join(tlsDir, 'server.pem')}`,
          `TLSCertificateKeyFile ${join(tlsDir, 'server.key')}`,
        ];
  return [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${SCHEMA_DIR}/${s}.schema`),
    `modulepath ${MODULE_DIR}`,
    'moduleload back_mdb',
    'moduleload memberof',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'loglevel stats',
    // A bind with a DN and an empty password then succeeds as anonymous, as on
    // some real servers: the directory must refuse empty passwords itself.
    'allow bind_anon_dn',
    ...tls,
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ROOT_PASSWORD}`,
    `directory ${join(dir, 'data')}`,
    'maxsize 16777216',
    'overlay memberof',
    'memberof-group-oc groupOfNames',
    'memberof-member-ad member',
    'memberof-memberof-ad memberOf',
    'memberof-refint TRUE',
    'access to attrs=userPassword by anonymous auth by * none',
    // Only the service account reads; anonymous searches find nothing.
    `access to * by dn.exact="${SERVICE_ACCOUNT.dn}" read by * none`,
    '',
  ].join('\n');
}

async function ldapTool(tool: 'ldapadd' | 'ldapmodify', url: string, file: string): Promise<void> {
  try {
    await execFileAsync(tool, ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, '-f', file], {
      timeout: LDAP_TOOL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: { ...process.env, LDAPNOINIT: '1' },
    });
  } catch (err) {
    throw new Error(`${tool} failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`, {
      cause: err,
    });
  }
}

/** Starts slapd on a free loopback port with the fixture loaded (about 1 s). */
export async function startSlapd(options: { tls?: boolean } = {}): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'modgate-slapd-'));
  await mkdir(join(dir, 'data'));
  const tlsDir = options.tls === true ? join(dir, 'pki') : undefined;
  const pki = tlsDir === undefined ? undefined : await makeTestPki(tlsDir);
  await writeFile(join(dir, 'slapd.conf'), slapdConf(dir, tlsDir));
  const port = await freePort();
  const tlsPort = pki === undefined ? undefined : await freePort();
  const url = `ldap://${LOOPBACK_V4}:${port}`;
  const ldapsUrl = tlsPort === undefined ? undefined : `ldaps://${LOOPBACK_V4}:${tlsPort}`;
  const listen = [url, ldapsUrl].filter((u) => u !== undefined).map((u) => `${u}/`);
  const runs: string[][] = [];
  let child: Daemon | undefined;

  async function start(): Promise<void> {
    child = await startDaemon({
      command: SLAPD,
      args: ['-d', STATS_DEBUG_LEVEL, '-f', join(dir, 'slapd.conf'), '-h', listen.join(' ')],
      port,
      output: 'stderr',
    });
    runs.push(child.log);
  }

  async function stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const daemon = child;
    child = undefined;
    await daemon?.end(signal);
  }

  /** Waits until no log arrived for LOG_SETTLE_MS (bounded), then parses it. */
  async function settledBinds(): Promise<BindRecord[]> {
    let last = -1;
    for (let i = 0; i < LOG_SETTLE_MAX_WAITS; i += 1) {
      const size = runs.reduce((n, r) => n + r.length, 0);
      if (size === last) break;
      last = size;
      await new Promise((r) => setTimeout(r, LOG_SETTLE_MS));
    }
    return runs.flatMap((log, run) =>
      parseBinds(log.join('')).map((b) => ({ ...b, conn: `${run}:${b.conn}` })),
    );
  }

  await start();
  await ldapTool('ldapadd', url, FIXTURE_LDIF);

  return {
    url,
    ldapsUrl,
    caPem: pki?.caPem,
    bindDn: SERVICE_ACCOUNT.dn,
    bindPassword: SERVICE_ACCOUNT.password,
    baseDn: BASE_DN,
    async countBinds(dn) {
      return (await settledBinds()).filter((b) => b.err === 0 && sameDn(b.dn, dn)).length;
    },
    binds: settledBinds,
    async modify(ldif) {
      const file = join(dir, `modify-${Date.now()}-${Math.random().toString(36).slice(2)}.ldif`);
      await writeFile(file, ldif);
      await ldapTool('ldapmodify', url, file);
    },
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Ready `LdapDirectoryOptions` for the fixture (memberOf groups, employeeType=disabled). */
export function ldapDirectoryOptions(slapd: Slapd): LdapDirectoryOptions {
  return {
    url: slapd.url,
    startTls: false,
    bindDn: slapd.bindDn,
    bindPassword: slapd.bindPassword,
    userBase: PEOPLE_DN,
    userFilter: '(&(objectClass=inetOrgPerson)(uid={username}))',
    userNameAttribute: 'uid',
    groups: { from: 'memberOf' },
    disabledFilter: '(employeeType=disabled)',
    timeoutMs: 2_000,
    poolSize: 4,
  };
}

/** The group-search alternative to `memberOf` for the fixture's groupOfNames entries. */
export const GROUP_SEARCH = {
  from: 'search',
  base: GROUPS_DN,
  filter: '(&(objectClass=groupOfNames)(member={dn}))',
  nameAttribute: 'cn',
} as const satisfies LdapDirectoryOptions['groups'];
