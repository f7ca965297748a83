/**
 * The server certificate check (offline): modgate's certificate and key
 * belong together, the certificate is valid now and for a while, and it
 * names the host of `listen.public_url` — the host name clients use, which
 * the go command verifies.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { type Check, type CheckOutcome, outcome } from '../../../core/check.ts';
import type { GatewaySettings } from '../../config/settings.ts';

/** A certificate expiring sooner than this is a warning (ms): 30 days. */
export const CERT_EXPIRY_WARNING_MS = 30 * 24 * 60 * 60 * 1000;

/** What the certificate check reads of the settings. */
export interface CertificateSettings {
  readonly tls: GatewaySettings['tls'];
  readonly listen: { readonly publicUrl: string | undefined };
}

/** The server certificate check as a runnable {@link Check}. */
export function serverCertificateCheck(settings: CertificateSettings): Check {
  return { name: 'tls', target: undefined, run: async () => checkServerCertificate(settings) };
}

export function checkServerCertificate(
  settings: CertificateSettings,
  now: number = Date.now(),
): CheckOutcome {
  if (!('cert' in settings.tls)) {
    return outcome.skip('plain http: a TLS terminator in front holds the certificate');
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(settings.tls.cert);
  } catch {
    return outcome.fail('tls.cert is not a PEM certificate', 'point tls.cert at the PEM certificate file');
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(settings.tls.key))) {
      return outcome.fail(
        'tls.key does not belong to the certificate in tls.cert',
        'point tls.key at the private key the certificate was issued for',
      );
    }
  } catch {
    return outcome.fail(
      'tls.key is not a PEM private key (or is encrypted)',
      'point tls.key at the unencrypted PEM private key',
    );
  }
  const names = cert.subjectAltName ?? `no subjectAltName (CN only: ${cert.subject})`;
  const until = new Date(cert.validTo);
  const summary = `certificate for ${names}, issued by ${oneLine(cert.issuer)}, valid until ${until.toISOString().slice(0, 10)}`;
  const renew = 'renew the certificate (local stack: deploy/gen-certs.sh --force)';
  if (until.getTime() <= now) return outcome.fail(`${summary}: expired`, renew);
  if (new Date(cert.validFrom).getTime() > now) {
    return outcome.fail(
      `${summary}: not valid before ${cert.validFrom}`,
      'check the clock, or the certificate',
    );
  }
  const host =
    settings.listen.publicUrl === undefined ? undefined : new URL(settings.listen.publicUrl).hostname;
  const bare = host?.replace(/^\[(.*)\]$/, '$1');
  if (bare !== undefined && (isIP(bare) === 0 ? cert.checkHost(bare) : cert.checkIP(bare)) === undefined) {
    return outcome.warn(
      `${summary}; it does not name ${bare}, the host of listen.public_url: the go command will refuse it`,
      `issue the certificate for ${bare}, or set listen.public_url to a name it has`,
    );
  }
  if (until.getTime() - now < CERT_EXPIRY_WARNING_MS) return outcome.warn(`${summary}: expires soon`, renew);
  return outcome.ok(summary);
}

/** `CN=x\nO=y` (Node's multi-line form) as `CN=x, O=y`. */
function oneLine(name: string): string {
  return name.split('\n').join(', ');
}
