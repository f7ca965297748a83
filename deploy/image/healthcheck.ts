/**
 * The container health check: GET modgate's `/healthz` (process alive) on
 * loopback, exit 0 on a 2xx answer, 1 otherwise. Run by the Dockerfile's
 * HEALTHCHECK as `node deploy/image/healthcheck.ts`; no dependency beyond
 * Node, nothing written to disk (the root filesystem is read-only).
 *
 * Environment:
 * - MODGATE_HEALTHCHECK_URL: default https://127.0.0.1:8443/healthz
 * - MODGATE_HEALTHCHECK_CA: a CA file (PEM) to verify modgate's certificate
 *   with; without it the certificate is not verified (the equivalent of
 *   curl --insecure: the request goes to loopback and carries no secret)
 * - MODGATE_HEALTHCHECK_SERVERNAME: the name to verify the certificate for
 *   (default: the URL's host)
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where the health check asks by default: modgate's port in the image, on loopback. */
export const DEFAULT_HEALTHCHECK_URL = 'https://127.0.0.1:8443/healthz';
/** Give up after this long (ms); Docker's own --timeout should be longer. */
export const HEALTHCHECK_TIMEOUT_MS = 3_000;

export interface HealthcheckOptions {
  readonly url: string;
  readonly caFile: string | undefined;
  readonly servername: string | undefined;
  readonly timeoutMs: number;
  /** Where the reason for an unhealthy answer goes (Docker keeps it in `docker inspect`). */
  readonly log?: (line: string) => void;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv): HealthcheckOptions {
  return {
    url: env.MODGATE_HEALTHCHECK_URL || DEFAULT_HEALTHCHECK_URL,
    caFile: env.MODGATE_HEALTHCHECK_CA || undefined,
    servername: env.MODGATE_HEALTHCHECK_SERVERNAME || undefined,
    timeoutMs: HEALTHCHECK_TIMEOUT_MS,
  };
}

/** Resolves true for a 2xx answer; false for anything else, with the reason on stderr. */
export function healthcheck(options: HealthcheckOptions): Promise<boolean> {
  const url = new URL(options.url);
  const https = url.protocol === 'https:';
  const tls = https
    ? {
        ...(options.caFile === undefined
          ? { rejectUnauthorized: false }
          : { ca: readFileSync(options.caFile, 'utf8') }),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
      }
    : {};
  return new Promise((resolve) => {
    const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const fail = (reason: string) => {
      log(`healthcheck: ${options.url}: ${reason}`);
      resolve(false);
    };
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', timeout: options.timeoutMs, ...tls },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(true);
        else fail(`answered ${status}`);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message));
    req.end();
  });
}

if (process.argv[1] === import.meta.filename) {
  healthcheck(optionsFromEnv(process.env)).then((healthy) => {
    process.exitCode = healthy ? 0 : 1;
  });
}
