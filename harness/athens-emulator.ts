/**
 * An in-process stand-in for an Athens proxy (gomods/athens), serving a
 * GOPROXY folder (gateway/protocol/goproxy-folder.ts layout) over plain http on
 * 127.0.0.1 (or another loopback address) and behaving as Athens documents
 * it: one static basic-auth user, 403 with an empty body for filter
 * exclusions, 404 for modules it cannot find, optional 303 redirects for zips
 * (or for everything, to another server), `/sumdb/` proxying.
 * It records every request so tests can assert what modgate forwarded.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pickLatest } from '../core/gomod/latest.ts';
import { escapeVersion, unescapePath } from '../core/gomod/module.ts';
import type { ChecksumDb } from './checksum-db.ts';
import { isFile, readList } from './goproxy-read.ts';
import { LOOPBACK_V4 } from './ports.ts';

/** Athens' challenge realm (cmd/proxy/actions/basicauth.go). */
export const ATHENS_REALM = 'basic auth required';

/** Upper bound for {@link AthensEmulator.close} (milliseconds). */
const CLOSE_TIMEOUT_MS = 5_000;

/** Content type of every plain-text answer. */
const TEXT = 'text/plain; charset=utf-8';

/** Path on the emulator that plays the storage bucket a redirect points to. */
const STORAGE_PREFIX = '/_storage';

/** Settings that tests may change while the emulator runs (see `configure`). */
export interface AthensSettings {
  /** The one static user Athens can require; absent: no authentication. */
  basicAuth?: { username: string; password: string } | undefined;
  /** Filter-file exclusions: module path prefixes answered with 403 and an empty body. */
  exclude?: string[];
  /** Answer zip requests with a redirect to {@link STORAGE_PREFIX} on this server. */
  redirectZips?: boolean;
  /** Status of those redirects and of {@link redirectTo}'s; default 303 (Athens' download mode `redirect`). */
  redirectStatus?: 301 | 302 | 303 | 307 | 308;
  /**
   * After authentication, answer zips (`zips`) or every module and sumdb
   * request (`all`) with a redirect to the same request target on `origin`,
   * another server (download mode `redirect` pointing at another proxy).
   */
  redirectTo?: { origin: string; requests: 'zips' | 'all' } | undefined;
  /** Origin the zip redirects of `redirectZips` point to (a storage host elsewhere); default this server's own. */
  redirectOrigin?: string;
  /** Checksum databases proxied under `/sumdb/<name>/`; default `sum.golang.org`. */
  sumdbs?: string[];
  /** Body of `/sumdb/<name>/lookup|tile|latest` answers. */
  sumdbAnswer?: string;
  /** A real checksum database served under `/sumdb/<its name>/` instead of canned answers. */
  checksumDb?: Pick<ChecksumDb, 'name' | 'answer'>;
  /** Send only this many bytes of each zip, then hold the rest until {@link AthensEmulator.releaseHeld}. */
  holdZipsAfter?: number;
  /** Accept requests but never answer them. */
  hang?: boolean;
}

/** Options of {@link startAthensEmulator}. */
export interface AthensOptions extends AthensSettings {
  /** The GOPROXY folder to serve. */
  root: string;
  /** Serve the protocol under this path (e.g. `/athens`) instead of the root. */
  prefix?: string;
  /** Listen on this port; default: one the kernel picks. */
  port?: number;
  /** The loopback address to listen on; default 127.0.0.1 (127.0.0.2 plays another host). */
  host?: string;
}

/** One request as the emulator received it. */
export interface RecordedRequest {
  method: string;
  /** Raw request target, e.g. `/github.com/%21acme/tool/@v/list`. */
  url: string;
  headers: IncomingHttpHeaders;
  time: Date;
}

/** A running emulator and its test controls. */
export interface AthensEmulator {
  /** Base URL of the GOPROXY protocol, including the prefix, without a trailing slash. */
  url: string;
  /** `http://<host>:<port>`. */
  origin: string;
  port: number;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Forgets the recorded requests. */
  clear(): void;
  /** Changes settings for the following requests. */
  configure(settings: AthensSettings): void;
  /** Answers the next `count` requests (default 1) with `status` before any other check. */
  failNext(status: number, count?: number): void;
  /** Zip responses that sent their first `holdZipsAfter` bytes and wait for {@link releaseHeld}. */
  readonly held: number;
  /** Sends the rest of every held zip. */
  releaseHeld(): void;
  /** Stops listening and destroys every connection, hanging ones included. */
  close(): Promise<void>;
  /** Like `close`, but settings and records stay: `restart` listens again on the same port (an outage). */
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** Starts an emulator on 127.0.0.1 (or `host`), on `options.port` or a port the kernel picks. */
export async function startAthensEmulator(options: AthensOptions): Promise<AthensEmulator> {
  const settings: AthensSettings = {
    sumdbs: ['sum.golang.org'],
    sumdbAnswer: 'canned sumdb answer\n',
    ...options,
  };
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const host = options.host ?? LOOPBACK_V4;
  const requests: RecordedRequest[] = [];
  const failures: number[] = [];
  const signature = randomBytes(16).toString('hex');
  const held: (() => void)[] = [];

  const server = createServer((req, res) => {
    const { method = '', url = '', headers } = req;
    requests.push({ method, url, headers: { ...headers }, time: new Date() });
    if (settings.hang === true) return;
    const failure = failures.shift();
    if (failure !== undefined) return send(res, failure, TEXT, 'emulated failure\n');
    handle(req, res).catch(() => send(res, 500, TEXT, 'internal error\n'));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = attempt(() => decodeURIComponent(url.pathname));
    if (path === undefined) return send(res, 400, TEXT, 'invalid path\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, TEXT, 'method not allowed\n');
    if (path === '/healthz' || path === '/readyz') return send(res, 200, TEXT, '');
    if (path.startsWith(`${STORAGE_PREFIX}/`)) {
      if (url.searchParams.get('signature') !== signature) return send(res, 403, TEXT, 'bad signature\n');
      return serveFile(res, path.slice(STORAGE_PREFIX.length), 'application/zip');
    }
    if (settings.basicAuth !== undefined && !authorized(req.headers.authorization, settings.basicAuth)) {
      res.setHeader('WWW-Authenticate', `Basic realm="${ATHENS_REALM}"`);
      return send(res, 401, undefined, '');
    }
    if (!path.startsWith(`${prefix}/`)) return notFound(res);
    const to = settings.redirectTo;
    if (to !== undefined && (to.requests === 'all' || path.endsWith('.zip'))) {
      res.setHeader('Location', to.origin + (req.url ?? '/').slice(prefix.length));
      return send(res, settings.redirectStatus ?? 303, undefined, '');
    }
    const rest = path.slice(prefix.length);
    const sumdb = /^\/sumdb\/([^/]+)\/(supported|lookup\/.+|tile\/.+|latest)$/.exec(rest);
    if (sumdb !== null) {
      const db = settings.checksumDb;
      if (db !== undefined && db.name === sumdb[1]) {
        const answer = db.answer(sumdb[2]!);
        return send(res, answer.status, TEXT, answer.body);
      }
      if (!(settings.sumdbs ?? []).includes(sumdb[1]!)) return notFound(res);
      return sumdb[2] === 'supported'
        ? send(res, 200, undefined, '')
        : send(res, 200, TEXT, settings.sumdbAnswer ?? '');
    }
    const route = /^\/(.+)\/(@latest|@v\/list|@v\/([^/]+)\.(info|mod|zip))$/.exec(rest);
    if (route === null) return notFound(res);
    const module = route[1]!;
    const modulePath = attempt(() => unescapePath(module));
    if (modulePath === undefined) return send(res, 400, TEXT, 'invalid module path\n');
    if ((settings.exclude ?? []).some((p) => isUnder(modulePath, p))) return send(res, 403, undefined, '');
    const versions = await readList(join(options.root, module, '@v', 'list'));
    if (versions === undefined) return notFound(res, `${module}: module not found`);
    if (route[2] === '@v/list') return send(res, 200, TEXT, versions.map((v) => `${v}\n`).join(''));
    if (route[2] === '@latest') {
      const latest = pickLatest(versions);
      if (latest === undefined) return notFound(res, `${module}: no versions`);
      return serveFile(res, `/${module}/@v/${escapeVersion(latest)}.info`, 'application/json');
    }
    const file = `/${module}/@v/${route[3]}.${route[4]}`;
    if (route[4] === 'zip' && settings.redirectZips === true && (await isFile(join(options.root, file)))) {
      res.setHeader(
        'Location',
        `${settings.redirectOrigin ?? ''}${STORAGE_PREFIX}${encodeURI(file)}?signature=${signature}`,
      );
      return send(res, settings.redirectStatus ?? 303, undefined, '');
    }
    const types = { info: 'application/json', mod: TEXT, zip: 'application/zip' };
    return serveFile(res, file, types[route[4] as keyof typeof types]);
  }

  async function serveFile(res: ServerResponse, file: string, type: string): Promise<void> {
    const found = file.split('/').includes('..')
      ? undefined
      : await stat(join(options.root, file)).catch(() => undefined);
    if (found?.isFile() !== true) return notFound(res);
    const { size } = found;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': size });
    if (res.req.method === 'HEAD') return void res.end();
    const hold = type === 'application/zip' ? (settings.holdZipsAfter ?? size) : size;
    const part = (start: number, end: boolean) => {
      const stream = createReadStream(join(options.root, file), { start, end: end ? size - 1 : hold - 1 });
      stream.on('error', () => res.destroy()).pipe(res, { end });
      return stream;
    };
    if (hold >= size) return void part(0, true);
    part(0, false).once('end', () => held.push(() => part(hold, true)));
  }

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const origin = `http://${host}:${port}`;
  return {
    url: origin + prefix,
    origin,
    port,
    requests,
    clear: () => void requests.splice(0),
    configure: (s) => void Object.assign(settings, s),
    failNext: (status, count = 1) => failures.push(...Array<number>(count).fill(status)),
    get held() {
      return held.length;
    },
    releaseHeld: () => {
      for (const resume of held.splice(0)) resume();
    },
    close: () => closeServer(server),
    stop: () => closeServer(server),
    restart: () => listen(port),
  };
}

function notFound(res: ServerResponse, what = 'not found'): void {
  send(res, 404, TEXT, `${what}\n`);
}

function send(res: ServerResponse, status: number, type: string | undefined, body: string | Buffer): void {
  if (type !== undefined) res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(status);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Compares user and password in constant time, both always (no early return). */
function authorized(header: string | undefined, expected: { username: string; password: string }): boolean {
  const match = /^basic\s+(\S+)\s*$/i.exec(header ?? '');
  const decoded = match === null ? '' : Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? '' : decoded.slice(0, colon);
  const pass = colon < 0 ? '' : decoded.slice(colon + 1);
  const okUser = timingSafeEqual(digest(user), digest(expected.username));
  const okPass = timingSafeEqual(digest(pass), digest(expected.password));
  return colon >= 0 && okUser && okPass;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The value of `fn()`, or undefined when it throws (bad escapes in a request path). */
function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function isUnder(module: string, prefix: string): boolean {
  return module === prefix || module.startsWith(`${prefix}/`);
}

/** Closes the listener and every connection, hanging requests included, within {@link CLOSE_TIMEOUT_MS}. */
async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  const timeout = delay(CLOSE_TIMEOUT_MS, undefined, { ref: false }).then(() => {
    throw new Error(`athens emulator did not close in ${CLOSE_TIMEOUT_MS} ms`);
  });
  await Promise.race([closed, timeout]);
}
