/**
 * The client side of modgate's login and token API, for `modgate login` and
 * `logout`: a JSON POST over https trusting what the go command trusts
 * (system roots, SSL_CERT_FILE) plus the CA given with `--ca`.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { goTrustStore, handshake, type TrustStore } from '../../client/https-probe.ts';
import { describeSocketError } from '../../core/check.ts';
import { readBounded } from '../../core/read-bounded.ts';

/** Bound on one call to modgate (ms); modgate itself gives the IdP 10 s. */
export const API_TIMEOUT_MS = 30_000;
/** Largest answer read from modgate (bytes). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** An answer of the API: the status and the JSON body (undefined when it is not JSON). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** The roots to trust: go's (system, SSL_CERT_FILE) plus the PEM file `caFile`. */
export async function clientTrust(
  env: Readonly<Record<string, string | undefined>>,
  caFile: string | undefined,
): Promise<TrustStore> {
  const base = await goTrustStore(env);
  if (caFile === undefined) return base;
  return { ca: [...base.ca, await readFile(caFile, 'utf8')], source: `${base.source} and ${caFile}` };
}

/** Whether go, trusting only `store`, would accept modgate's certificate (false when unreachable). */
export async function trusted(url: URL, store: TrustStore): Promise<boolean> {
  try {
    const h = await handshake(url, store, API_TIMEOUT_MS);
    return h.trusted && h.hostError === undefined;
  } catch {
    return false;
  }
}

/** POSTs `fields` as JSON to `path` of `base`. Rejects on socket and TLS errors. */
export function postJson(
  base: URL,
  path: string,
  fields: Readonly<Record<string, string>>,
  options: { store: TrustStore; authorization?: string; timeoutMs?: number },
): Promise<ApiAnswer> {
  const timeoutMs = options.timeoutMs ?? API_TIMEOUT_MS;
  const body = JSON.stringify(fields);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method: 'POST',
        ca: [...options.store.ca],
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          accept: 'application/json',
          'user-agent': 'modgate-cli',
          ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
        },
      },
      (res) => {
        readBounded(res, MAX_ANSWER_BYTES, 'drain').then(({ bytes }) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(bytes.toString('utf8'));
          } catch {
            parsed = undefined;
          }
          const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
          resolve({
            status: res.statusCode ?? 0,
            body: isObject ? (parsed as Record<string, unknown>) : undefined,
          });
        }, reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The one-line reason of an error answer, for people. */
export function reasonOf(answer: ApiAnswer): string {
  const text = answer.body?.error_description;
  if (typeof text === 'string' && text !== '') return text;
  return `modgate answered ${answer.status} (is this a modgate URL with sso configured?)`;
}

/** Why a request did not reach modgate, in a few words. */
export function unreachable(base: URL, err: unknown): string {
  return `cannot reach ${base.host}: ${describeSocketError(err)}`;
}

/** Checks the URL a user gave: https (go sends credentials only over https), no userinfo, query or fragment. */
export function modgateBase(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol !== 'https:')
    return `${text}: modgate must be https (go sends credentials only over https)`;
  if (url.username !== '' || url.password !== '') return `${text}: leave the credentials out of the URL`;
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * The one positional argument of `modgate login|logout <url>`, checked by
 * {@link modgateBase}; prints the usage or the problem and returns exit status
 * 2 when it is missing or not a modgate URL.
 */
export function commandTarget(
  command: string,
  usage: string,
  positionals: readonly string[],
  io: { err(text: string): void },
): URL | number {
  if (positionals.length !== 1) {
    io.err(`${usage}\n`);
    return 2;
  }
  const base = modgateBase(positionals[0]!);
  if (typeof base === 'string') {
    io.err(`modgate ${command}: ${base}\n`);
    return 2;
  }
  return base;
}

/** The URL as GOPROXY names it: no trailing slash. */
export function goproxyValue(base: URL): string {
  return base.href.replace(/\/+$/, '');
}
