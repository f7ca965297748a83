/**
 * A stack (test/support/stack.ts: slapd, the Athens emulator, the gateway)
 * with people's sign-in turned on: a real oidc-provider that lets people log
 * in (TestIdp.start with modgate's callback), modgate personal tokens, and
 * `sso:` pointing at the provider. The gateway's port is chosen first, since
 * the provider must know the callback URL and the gateway its public URL.
 */
import { generateKeyPairSync } from 'node:crypto';
import { freePort } from '../../harness/ports.ts';
import { secretFile } from './gateway.ts';
import { CLIENTS, TestIdp } from './oidc-provider.ts';
import { type Stack, startStack } from './stack.ts';

export interface SsoStack {
  readonly stack: Stack;
  readonly idp: TestIdp;
  /** The gateway's public URL, e.g. `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the gateway and the provider. */
  close(): Promise<void>;
}

export interface SsoStackOptions {
  readonly policy: string;
  /** `sso.session_key` (at least 32 characters). */
  readonly sessionKey: string;
  /** Extra `auth:` keys of gateway.yaml, e.g. a short `cache_ttl`. */
  readonly auth?: Record<string, unknown>;
  /** Extra `sso:` keys, e.g. a short `access_token_ttl`. */
  readonly sso?: Record<string, unknown>;
}

export async function startSsoStack(options: SsoStackOptions): Promise<SsoStack> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const idp = await TestIdp.start({ redirectUris: [`${url}/login/callback`] });
  const patKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: options.policy,
    gatewayConfig: async (config, { dir }) => ({
      ...config,
      listen: { host: '127.0.0.1', port, public_url: url },
      ...(options.auth === undefined ? {} : { auth: options.auth }),
      personal_tokens: { issuer: url, keys: [{ kid: 'k1', pem: await secretFile(dir, 'pat.pem', patKey) }] },
      sso: {
        issuer: idp.issuer,
        client_id: CLIENTS.login.id,
        client_secret: await secretFile(dir, 'sso-client-secret', CLIENTS.login.secret),
        session_key: await secretFile(dir, 'sso-session-key', options.sessionKey),
        allow_insecure_http: true,
        ...options.sso,
      },
    }),
  }).catch(async (err: unknown) => {
    await idp.close();
    throw err;
  });
  return {
    stack,
    idp,
    url,
    close: async () => {
      await stack.close();
      await idp.close();
    },
  };
}
