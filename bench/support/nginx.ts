/**
 * Debian's nginx in two roles, each its own instance with one worker on a
 * loopback port: the upstream (a GOPROXY folder served statically, plain
 * http, as an Athens inside the network would be) and the practical floor for
 * an authenticating proxy (TLS, `auth_basic` against an htpasswd file,
 * `proxy_pass` to the upstream over a keep-alive pool). One worker each, so
 * the proxy has one core's worth of event loop, like modgate's one Node thread.
 * Two more without authentication, for what TLS and the proxy hop alone cost
 * (bench/support/go-floor.ts).
 */
import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort, LOOPBACK_V4 } from '../../harness/ports.ts';
import type { TestPki } from '../../harness/tls.ts';
import { type BenchProcess, childPids, startProcess } from './processes.ts';

const execFileAsync = promisify(execFile);

/** Debian's nginx binary (packages nginx, nginx-light, nginx-full). */
const NGINX = '/usr/sbin/nginx';
/** How long nginx may take to bind its port and write its pid file (ms). */
const START_TIMEOUT_MS = 10_000;
/** Pause between checks for the pid file (ms). */
const POLL_MS = 20;
/** Idle keep-alive connections the proxy keeps to the upstream (connections; modgate's default pool is 64). */
const UPSTREAM_KEEPALIVE = 64;

/** A running nginx instance. */
export interface Nginx extends BenchProcess {
  /** `http://127.0.0.1:<port>` or `https://…` */
  readonly url: string;
  /** The master and its workers. */
  pids(): Promise<number[]>;
}

/** Where an instance keeps its config, pid, logs and temp files. */
function prelude(dir: string): string {
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${join(dir, 'tmp', t)};`)
    .join('\n  ');
  return `${user}
worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${temp}
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/json info; application/zip zip; }
  default_type text/plain;`;
}

async function start(dir: string, server: string, url: string): Promise<Nginx> {
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, `${prelude(dir)}\n${server}\n}\n`);
  await execFileAsync(NGINX, ['-t', '-q', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf]);
  const proc = startProcess(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf]);
  // The master writes its pid file after it has bound the listening sockets.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (
    !(await access(join(dir, 'nginx.pid')).then(
      () => true,
      () => false,
    ))
  ) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`nginx did not start; see ${join(dir, 'error.log')}`);
    }
    await delay(POLL_MS);
  }
  return { ...proc, url, pids: async () => [proc.pid, ...(await childPids(proc.pid))] };
}

/** nginx serving the GOPROXY folder `root` over plain http. */
export async function startNginxUpstream(dir: string, root: string): Promise<Nginx> {
  const port = await freePort();
  const server = `  server {
    listen ${LOOPBACK_V4}:${port};
    root ${root};
  }`;
  return start(dir, server, `http://${LOOPBACK_V4}:${port}`);
}

/**
 * nginx with TLS and `auth_basic` in front of `upstreamUrl`. The htpasswd line
 * is apr1 (htpasswd's default scheme, made here with `openssl passwd -apr1`):
 * nginx checks it on every request, it has no cache of verified credentials.
 */
export async function startNginxBasicAuth(
  dir: string,
  pki: TestPki,
  upstreamUrl: string,
  user: { name: string; password: string },
): Promise<Nginx> {
  const { stdout } = await execFileAsync('/usr/bin/openssl', ['passwd', '-apr1', user.password]);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'htpasswd'), `${user.name}:${stdout.trim()}\n`, { mode: 0o600 });
  const auth = `auth_basic "modgate-bench";
    auth_basic_user_file ${join(dir, 'htpasswd')};`;
  return startTlsProxy(dir, pki, upstreamUrl, auth);
}

/** nginx with TLS and `proxy_pass` to `upstreamUrl`, no authentication: what the proxy hop alone costs. */
export function startNginxTlsProxy(dir: string, pki: TestPki, upstreamUrl: string): Promise<Nginx> {
  return startTlsProxy(dir, pki, upstreamUrl, '');
}

/** nginx serving the GOPROXY folder `root` over TLS, no authentication: what TLS alone costs. */
export async function startNginxTlsStatic(dir: string, pki: TestPki, root: string): Promise<Nginx> {
  const port = await freePort();
  return start(dir, tlsServer(port, pki, `root ${root};`), `https://${LOOPBACK_V4}:${port}`);
}

async function startTlsProxy(dir: string, pki: TestPki, upstreamUrl: string, auth: string): Promise<Nginx> {
  const port = await freePort();
  const upstream = `  upstream goproxy {
    server ${new URL(upstreamUrl).host};
    keepalive ${UPSTREAM_KEEPALIVE};
  }`;
  const proxy = `${auth}
    location / {
      proxy_pass http://goproxy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "";
    }`;
  return start(dir, `${upstream}\n${tlsServer(port, pki, proxy)}`, `https://${LOOPBACK_V4}:${port}`);
}

/** A TLS server block on a loopback port with the bench certificate, around `inner`. */
function tlsServer(port: number, pki: TestPki, inner: string): string {
  return `  server {
    listen ${LOOPBACK_V4}:${port} ssl;
    ssl_certificate ${pki.certPath};
    ssl_certificate_key ${pki.keyPath};
    ssl_session_cache shared:bench:1m;
    ${inner}
  }`;
}
