import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { readBounded } from '../../core/read-bounded.ts';

/** Bound on one admin API call (ms). */
const ADMIN_TIMEOUT_MS = 30_000;
/** Largest answer read (bytes): a list of 1,000 pins fits. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Where and how the operator's command reaches a running gateway's admin API. */
export interface AdminTarget {
  /** The gateway's URL, e.g. https://goproxy.corp. */
  readonly url: string;
  /** File holding gateway.yaml's admin.token. */
  readonly tokenFile: string;
  /** Extra CA (PEM file) to trust. */
  readonly caFile?: string | undefined;
}

/** Calls `path` (with `query`) on the admin API; resolves the status and the body text. */
export async function adminCall(
  target: AdminTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  query: Readonly<Record<string, string>>,
): Promise<{ status: number; body: string }> {
  const token = (await readFile(target.tokenFile, 'utf8')).trim();
  const ca = target.caFile === undefined ? undefined : await readFile(target.caFile, 'utf8');
  const url = new URL(path, target.url);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca, timeout: ADMIN_TIMEOUT_MS, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        readBounded(res, MAX_ANSWER_BYTES, 'drain').then(
          ({ bytes }) => resolve({ status: res.statusCode ?? 0, body: bytes.toString('utf8') }),
          reject,
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ADMIN_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}
