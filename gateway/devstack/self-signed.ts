import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ModgateError } from '../../core/errors.ts';

const execFileAsync = promisify(execFile);

/** Validity of the development certificate (days). */
const DEV_CERT_VALIDITY_DAYS = 825;
/** Upper bound for the openssl run (ms). */
const OPENSSL_TIMEOUT_MS = 20_000;

/**
 * Creates a self-signed certificate for local use (localhost, 127.0.0.1, ::1)
 * with the openssl command: EC P-256, CA:TRUE so it can be the whole trust
 * chain that `SSL_CERT_FILE` names for the go command.
 */
export async function makeSelfSignedCert(dir: string): Promise<{ certPath: string; keyPath: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    String(DEV_CERT_VALIDITY_DAYS),
    '-sha256',
    '-subj',
    '/CN=modgate development certificate',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyCertSign',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ];
  try {
    await execFileAsync('openssl', args, { timeout: OPENSSL_TIMEOUT_MS });
  } catch (cause) {
    throw new ModgateError(
      'config.invalid',
      'could not create a development certificate with openssl (is it installed?)',
      { cause },
    );
  }
  return { certPath, keyPath };
}
