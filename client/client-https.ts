/**
 * Doctor's network checks, in the go command's shoes: does this machine trust
 * modgate's certificate (with go's CA sources), and what does modgate answer
 * an authenticated `@v/list` — read the way go reads refusals (the first
 * line of a text/plain body).
 */

import {
  type CheckOutcome,
  describeSocketError,
  errorCode,
  outcome,
  TLS_VERIFY_ERRORS,
} from '../core/check.ts';
import { escapePath } from '../core/gomod/module.ts';
import type { ClientCredentials } from './client-netrc.ts';
import { getAnswer, goTrustStore, handshake, type TrustStore } from './https-probe.ts';

/** What modgate's 401 and 403 bodies start with for a password problem and a disabled account (README table). */
const WRONG_PASSWORD_LINE = 'invalid username or password';
const DISABLED_LINE = 'user account is disabled';

/** The placeholder doctor prints for the CA bundle the developer must get from their modgate operators. */
export const CA_PLACEHOLDER = '<modgate-ca.pem>';

/** Checks the TLS handshake; hands back the trust store when modgate's certificate verifies. */
export async function checkTrust(
  env: Readonly<Record<string, string | undefined>>,
  modgate: URL,
  timeoutMs: number,
): Promise<{ outcome: CheckOutcome; store: TrustStore | undefined }> {
  const address = `${modgate.hostname}:${modgate.port || 443}`;
  let store: TrustStore;
  try {
    store = await goTrustStore(env);
  } catch (err) {
    return {
      outcome: outcome.fail(
        `SSL_CERT_FILE=${env.SSL_CERT_FILE} cannot be read (${errorCode(err) ?? String(err)}): go trusts fewer CAs than you meant; point it at a PEM file holding the CA that issued modgate's certificate`,
        `export SSL_CERT_FILE=${CA_PLACEHOLDER}`,
      ),
      store: undefined,
    };
  }
  try {
    const h = await handshake(modgate, store, timeoutMs);
    const issued = `issued by "${h.issuer}"`;
    if (!h.trusted) {
      const code = h.verifyError ?? 'UNKNOWN';
      const meaning = TLS_VERIFY_ERRORS[code] ?? 'it does not verify';
      const expired = code === 'CERT_HAS_EXPIRED';
      const advice = expired
        ? "not on your side: tell the modgate operators that modgate's certificate has expired"
        : `get the CA certificate "${h.issuer}" (PEM) from the modgate operators`;
      return {
        outcome: outcome.fail(
          `${address} presents a certificate ${issued}, not trusted with ${store.source}: ${meaning} (${code}); ${advice}`,
          expired ? undefined : `export SSL_CERT_FILE=${CA_PLACEHOLDER}`,
        ),
        store: undefined,
      };
    }
    if (h.hostError !== undefined) {
      return {
        outcome: outcome.fail(
          `the certificate of ${address} (${h.subjectAltName ?? h.subject}) does not name ${modgate.hostname} (${h.hostError})`,
          'use a host name the certificate names in GOPROXY and netrc (modgate doctor --url https://<that name>)',
        ),
        store: undefined,
      };
    }
    return {
      outcome: outcome.ok(
        `${address} certificate ${issued}, valid until ${h.validTo.toISOString().slice(0, 10)}, trusted through ${store.source}`,
      ),
      store,
    };
  } catch (err) {
    return { outcome: unreachable(address, err), store: undefined };
  }
}

function unreachable(address: string, err: unknown): CheckOutcome {
  return outcome.fail(
    `cannot reach ${address}: ${describeSocketError(err)}`,
    'check the URL and your network (VPN, proxy); if it is right, tell the modgate operators',
  );
}

/**
 * GETs `<modgate>/<module>/@v/list` with the credentials go would send and
 * explains the answer: 200/404/410 mean the credentials work; 401 a password
 * problem; 403 a disabled account or a policy refusal; 5xx a problem on
 * modgate's side (with the request id to quote).
 */
export async function checkProbe(
  modgate: URL,
  module: string,
  credentials: ClientCredentials,
  store: TrustStore,
  timeoutMs: number,
): Promise<CheckOutcome> {
  const base = modgate.href.replace(/\/$/, '');
  const url = new URL(`${base}/${escapePath(module)}/@v/list`);
  const authorization =
    credentials.authorization ??
    `Basic ${Buffer.from(`${credentials.login}:${credentials.password}`).toString('base64')}`;
  let answer: Awaited<ReturnType<typeof getAnswer>>;
  try {
    answer = await getAnswer(url, { store, authorization, timeoutMs });
  } catch (err) {
    return unreachable(`${modgate.hostname}:${modgate.port || 443}`, err);
  }
  const who = `as ${credentials.login}`;
  const said = answer.firstLine === '' ? '' : `: "${answer.firstLine}"`;
  const id = answer.requestId === undefined ? '' : ` (request id ${answer.requestId})`;
  const { status } = answer;
  if (status === 200) {
    const n = answer.body.split('\n').filter((l) => l.trim() !== '').length;
    return outcome.ok(`authenticated ${who}; ${module} lists ${n} version${n === 1 ? '' : 's'}`);
  }
  if (status === 404 || status === 410) {
    return outcome.ok(
      `authenticated ${who}; ${module} is not in the upstream (${status}), fine for this check`,
    );
  }
  if (status === 401) {
    const fix = answer.firstLine.includes(WRONG_PASSWORD_LINE)
      ? `put your current password for ${credentials.login} in ${credentials.source}`
      : `check the credentials in ${credentials.source}`;
    return outcome.fail(`modgate refused the credentials of ${credentials.source} (401)${said}`, fix);
  }
  if (status === 403 && answer.firstLine.includes(DISABLED_LINE)) {
    return outcome.fail(
      `modgate answered 403${said}`,
      'ask your directory administrators to enable the account',
    );
  }
  if (status === 403) {
    return outcome.warn(
      `authenticated ${who}, but ${module} is refused (403)${said}`,
      'check with a module you use: modgate doctor --module <module path>',
    );
  }
  return outcome.fail(
    `modgate answered ${status}${said}${id}`,
    `not on your side: tell the modgate operators${id === '' ? '' : `, quoting the request id`}`,
  );
}
