/**
 * A client's view of modgate over https, as the go command would have it:
 * the CA certificates go trusts (from SSL_CERT_FILE / SSL_CERT_DIR or the
 * system), a TLS handshake that reports why a certificate is not trusted, and
 * one authenticated GET whose answer is read like go reads it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import tls, { type PeerCertificate } from 'node:tls';
import { readBounded } from '../core/read-bounded.ts';

/** Largest answer body the probe reads (bytes); go shows at most 648 bytes of it anyway. */
const MAX_BODY_BYTES = 64 * 1024;

/** The roots the go command would trust, and where they came from. */
export interface TrustStore {
  /** PEM certificates. */
  readonly ca: readonly string[];
  readonly source: string;
}

/**
 * The roots go trusts on Unix (crypto/x509 loadSystemRoots): the file
 * `SSL_CERT_FILE` (else the system bundle) plus the certificates in the
 * folders of `SSL_CERT_DIR` (else the system folders, taken here as the
 * system store Node reads: on Debian both are /etc/ssl/certs). Throws an
 * errno error when SSL_CERT_FILE is set but unreadable (go would then
 * silently trust less).
 */
export async function goTrustStore(env: Readonly<Record<string, string | undefined>>): Promise<TrustStore> {
  const file = env.SSL_CERT_FILE || undefined;
  const dirs = env.SSL_CERT_DIR || undefined;
  const system = tls.getCACertificates('system');
  const ca: string[] = file === undefined ? [...system] : [await readFile(file, 'utf8')];
  if (dirs === undefined) {
    if (file !== undefined) ca.push(...system);
  } else {
    for (const dir of dirs.split(':')) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const text = await readFile(join(dir, name), 'utf8').catch(() => '');
        if (text.includes('-----BEGIN CERTIFICATE-----')) ca.push(text);
      }
    }
  }
  const parts = [file ? `SSL_CERT_FILE=${file}` : '', dirs ? `SSL_CERT_DIR=${dirs}` : ''].filter(Boolean);
  return { ca, source: parts.length === 0 ? 'the system CA certificates' : parts.join(' and ') };
}

/** The outcome of a TLS handshake with verification deferred, so its failure can be explained. */
export interface Handshake {
  /** The chain verified against the trust store. */
  readonly trusted: boolean;
  /** OpenSSL's reason when not trusted (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …). */
  readonly verifyError: string | undefined;
  /** Set when the chain is trusted but does not name the host (`ERR_TLS_CERT_ALTNAME_INVALID`). */
  readonly hostError: string | undefined;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string | undefined;
  readonly validTo: Date;
}

/** Connects to the https URL's host and port and hands back what verification found. Rejects on socket errors. */
export function handshake(url: URL, store: TrustStore, timeoutMs: number): Promise<Handshake> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ca: [...store.ca],
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(
        Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      ),
    );
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const verifyError = socket.authorized ? undefined : String(socket.authorizationError);
      const identity = socket.authorized ? tls.checkServerIdentity(host, cert) : undefined;
      socket.end();
      resolve({
        trusted: socket.authorized,
        verifyError,
        hostError:
          identity === undefined ? undefined : String((identity as { code?: string }).code ?? identity),
        subject: nameOf(cert.subject),
        issuer: nameOf(cert.issuer),
        subjectAltName: cert.subjectaltname,
        validTo: new Date(cert.valid_to),
      });
    });
  });
}

function nameOf(name: PeerCertificate['subject'] | undefined): string {
  if (name === undefined) return '';
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

/** What one GET answered: the status and the first line of a text/plain body (what go prints). */
export interface ProbeAnswer {
  readonly status: number;
  readonly firstLine: string;
  readonly requestId: string | undefined;
  readonly body: string;
}

/** GETs `url` with the given `Authorization` (if any), trusting `store`. Rejects on socket and TLS errors. */
export function getAnswer(
  url: URL,
  options: { store: TrustStore; authorization: string | undefined; timeoutMs: number },
): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: [...options.store.ca],
        headers: {
          'user-agent': 'modgate-doctor',
          ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
        },
        timeout: options.timeoutMs,
      },
      (res) => {
        readBounded(res, MAX_BODY_BYTES, 'drain').then(({ bytes }) => {
          const body = bytes.toString('utf8');
          const text = String(res.headers['content-type'] ?? '').startsWith('text/plain');
          const requestId = res.headers['x-request-id'];
          resolve({
            status: res.statusCode ?? 0,
            firstLine: text ? (body.split('\n')[0] ?? '').trim() : '',
            requestId: typeof requestId === 'string' ? requestId : undefined,
            body,
          });
        }, reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(
        Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      ),
    );
    req.on('error', reject);
    req.end();
  });
}
