/**
 * A throw-away PKI for one test run: a CA and a server certificate for the
 * loopback names, made with the openssl command line. The go command trusts the
 * CA through `SSL_CERT_FILE`; Node clients through the `ca` option.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The openssl binary (Debian package `openssl`). */
const OPENSSL = '/usr/bin/openssl';

/** Upper bound for one openssl invocation (milliseconds). */
const OPENSSL_TIMEOUT_MS = 15_000;

/** Validity of the CA and the server certificate (days); a test run never needs more. */
const VALIDITY_DAYS = 2;

/** Subject alternative names of the server certificate; go ≥1.15 ignores the CN. */
const SERVER_SANS = 'DNS:localhost,IP:127.0.0.1,IP:::1';

/** Paths and PEM text of a test PKI made by {@link makeTestPki}. */
export interface TestPki {
  /** The CA certificate (PEM file), the value for `SSL_CERT_FILE`. */
  caCertPath: string;
  /** The server certificate (PEM file), valid for localhost, 127.0.0.1 and ::1. */
  certPath: string;
  /** The server's private key (PEM file, unencrypted, EC P-256). */
  keyPath: string;
  /** The CA certificate's PEM text, for Node's `ca` option. */
  caPem: string;
  /** The server certificate's PEM text. */
  certPem: string;
  /** The server key's PEM text. */
  keyPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(OPENSSL, args, { cwd, timeout: OPENSSL_TIMEOUT_MS, killSignal: 'SIGKILL' });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: err });
  }
}

/**
 * Creates, under `dir`, a fresh CA (EC P-256, self-signed, CA:TRUE) and a
 * server certificate signed by it with SANs `localhost`, `127.0.0.1` and
 * `::1`, key usage digitalSignature and EKU serverAuth (and clientAuth, so tests
 * can also present it as a client certificate), as Go's crypto/x509
 * verifier requires (RFC 5280 §4.2.1.6 for the SANs).
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'server.key');
  const csrPath = join(dir, 'server.csr');
  const certPath = join(dir, 'server.pem');
  const extPath = join(dir, 'server.ext');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  await openssl(
    [
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      caKey,
      '-out',
      caCertPath,
      '-days',
      String(VALIDITY_DAYS),
      '-subj',
      '/CN=modgate test CA',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await openssl(
    ['req', '-new', ...ecKey, '-keyout', keyPath, '-out', csrPath, '-subj', '/CN=localhost'],
    dir,
  );
  await writeFile(
    extPath,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${SERVER_SANS}`,
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csrPath,
      '-CA',
      caCertPath,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      certPath,
      '-days',
      String(VALIDITY_DAYS),
      '-sha256',
      '-extfile',
      extPath,
    ],
    dir,
  );

  const [caPem, certPem, keyPem] = await Promise.all([
    readFile(caCertPath, 'utf8'),
    readFile(certPath, 'utf8'),
    readFile(keyPath, 'utf8'),
  ]);
  return { caCertPath, certPath, keyPath, caPem, certPem, keyPem };
}
