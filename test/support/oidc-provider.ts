/**
 * A real OpenID Provider (npm `oidc-provider`, a certified OP) on loopback
 * http, for the JWT, introspection and (later) login tests.
 *
 * What it serves: discovery, JWKS (with key rotation: `rotateKey()` adds a
 * new ES256 key and makes it the signing key, the old one stays published),
 * client credentials for CI workloads, resource indicators (a client
 * credentials grant with `resource=RESOURCE` yields a JWT access token whose
 * `aud` is the resource), RFC 7662 introspection and RFC 7009 revocation.
 *
 * `signJwt` mints tokens with the IdP's own current signing key, for claims
 * the provider would only issue through flows not built yet (a user `sub`,
 * `preferred_username`) and for the negative cases (expired, wrong `aud`).
 * Every request is counted by path, so tests can bound JWKS fetches.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
// @ts-expect-error -- oidc-provider ships no types (@types/oidc-provider is not a dependency); see OidcProvider below.
import ProviderModule from 'oidc-provider';
import { LOOPBACK_V4 } from '../../harness/ports.ts';

/** The slice of the oidc-provider API this harness uses. */
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  proxy: boolean;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
const Provider = ProviderModule as ProviderConstructor;

/** The resource (audience) the gateway stands for; client credentials for it yield JWT access tokens. */
export const RESOURCE = 'https://goproxy.test';
/** The scope the gateway's resource server accepts. */
export const RESOURCE_SCOPE = 'goproxy:read';
/** Lifetime of access tokens the provider issues (seconds). */
export const ACCESS_TOKEN_TTL_S = 600;
/** The signing algorithm of the provider's keys. */
export const SIGNING_ALG = 'ES256';

/** A confidential client of the provider. */
export interface TestClient {
  readonly id: string;
  readonly secret: string;
}

/** The clients the provider knows. */
export const CLIENTS = {
  /** A CI workload: client credentials, its tokens' `sub` is the client id. */
  ci: { id: 'ci-runner', secret: 'ci-runner-secret-9f2' },
  /** modgate itself, authenticating to the introspection endpoint. */
  modgate: { id: 'modgate', secret: 'modgate-client-secret-4kq' },
  /**
   * modgate logging people in (`sso:` in gateway.yaml): authorization code +
   * PKCE to the redirect URIs given to {@link TestIdp.start}, and the device grant.
   */
  login: { id: 'modgate-login', secret: 'modgate-login-secret-7hx' },
} as const satisfies Record<string, TestClient>;

/** The grant type of RFC 8628 (device authorization). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * People at the provider: its development login form takes any login name
 * (and any password) and makes it the account id; ID tokens then carry
 * `sub` and `preferred_username` equal to it. Log in as a directory user's
 * name (`alice`) to be that user at modgate.
 */
export interface PeopleOptions {
  /** Where the provider may send the browser back after login (modgate's `/login/callback`). */
  readonly redirectUris: readonly string[];
}

/** Token endpoint response of a successful grant. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope?: string;
}

interface SigningKey {
  readonly kid: string;
  /** Private JWK (with `kid`, `alg`, `use`) as the provider takes it. */
  readonly jwk: JWK;
}

async function newSigningKey(index: number): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = `test-key-${index}-${Date.now().toString(36)}`;
  return { kid, jwk: { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' } };
}

/** A running provider; `close()` it in `afterAll`. */
export class TestIdp {
  readonly issuer: string;
  readonly #server: Server;
  /** Newest first: the first key signs, all are published. */
  #keys: SigningKey[];
  #provider: OidcProvider;
  #handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly #hits = new Map<string, number>();
  readonly #people: PeopleOptions | undefined;

  private constructor(server: Server, issuer: string, keys: SigningKey[], people: PeopleOptions | undefined) {
    this.#server = server;
    this.issuer = issuer;
    this.#keys = keys;
    this.#people = people;
    this.#provider = buildProvider(issuer, keys, people);
    this.#handler = this.#provider.callback();
  }

  /** Starts a provider on 127.0.0.1 (a free port); `people` turns on login for people (code + PKCE, device grant). */
  static async start(people?: PeopleOptions): Promise<TestIdp> {
    let idp: TestIdp | undefined;
    const server = createServer((req, res) => {
      if (idp === undefined) {
        res.statusCode = 503;
        res.end();
        return;
      }
      idp.#serve(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK_V4, resolve));
    const { port } = server.address() as AddressInfo;
    idp = new TestIdp(server, `http://${LOOPBACK_V4}:${port}`, [await newSigningKey(0)], people);
    return idp;
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    this.#hits.set(path, (this.#hits.get(path) ?? 0) + 1);
    this.#handler(req, res);
  }

  /** The JWKS endpoint URL (as discovery announces it). */
  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  /** Requests served for `path` (e.g. `/jwks`, `/token/introspection`) so far. */
  hits(path: string): number {
    return this.#hits.get(path) ?? 0;
  }

  /** JWKS fetches served so far. */
  jwksFetches(): number {
    return this.hits('/jwks');
  }

  /** `kid` of the key that signs now. */
  get currentKid(): string {
    return this.#keys[0]!.kid;
  }

  /**
   * Adds a new signing key and makes it current; older keys stay in the JWKS
   * (the usual rollover). Returns the new `kid`. Tokens and grants issued
   * before survive: the in-memory adapter is shared across provider instances.
   */
  async rotateKey(): Promise<string> {
    const key = await newSigningKey(this.#keys.length);
    this.#keys = [key, ...this.#keys];
    this.#provider = buildProvider(this.issuer, this.#keys, this.#people);
    this.#handler = this.#provider.callback();
    return key.kid;
  }

  /** A client credentials grant (RFC 6749 §4.4), client_secret_basic; `resource` asks for a JWT access token. */
  async clientCredentials(
    client: TestClient = CLIENTS.ci,
    options: { resource?: string; scope?: string } = {},
  ): Promise<TokenResponse> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.resource !== undefined) body.set('resource', options.resource);
    if (options.scope !== undefined) body.set('scope', options.scope);
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const json = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
    if (!res.ok)
      throw new Error(`token endpoint ${res.status}: ${json.error} ${json.error_description ?? ''}`);
    return json;
  }

  /**
   * A device grant (RFC 8628) for the login client, approved at the
   * provider's pages as `login`: an opaque access token whose `sub` is
   * `login`. Needs {@link TestIdp.start} with `people`.
   */
  async deviceGrant(login: string, scope = 'openid profile'): Promise<TokenResponse> {
    const client = CLIENTS.login;
    const headers = { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' };
    const auth = await fetch(`${this.issuer}/device/auth`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ client_id: client.id, scope }),
    });
    const started = (await auth.json()) as { device_code?: string; verification_uri_complete?: string };
    if (!auth.ok || started.device_code === undefined || started.verification_uri_complete === undefined)
      throw new Error(`device authorization endpoint ${auth.status}: ${JSON.stringify(started)}`);
    const title = await approveAtIdp(started.verification_uri_complete, login);
    if (title !== 'Sign-in Success') throw new Error(`device approval ended at "${title}"`);
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: started.device_code }),
    });
    const json = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
    if (!res.ok)
      throw new Error(`token endpoint ${res.status}: ${json.error} ${json.error_description ?? ''}`);
    return json;
  }

  /** Revokes a token at the provider (RFC 7009), as `client` (the client it was issued to). */
  async revoke(token: string, client: TestClient = CLIENTS.ci): Promise<void> {
    const res = await fetch(`${this.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    if (!res.ok) throw new Error(`revocation endpoint ${res.status}: ${await res.text()}`);
  }

  /**
   * Signs a JWT with the provider's current key (or the key `kid`), with
   * `iss` = this issuer, `iat` = now and `exp` = now + 5 minutes unless the
   * claims say otherwise. `header` overrides protected header fields.
   */
  async signJwt(claims: JWTPayload, options: { kid?: string; header?: Record<string, unknown> } = {}) {
    const key = options.kid === undefined ? this.#keys[0]! : this.#keys.find((k) => k.kid === options.kid);
    if (key === undefined) throw new Error(`no key ${options.kid}`);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWT', ...options.header })
      .sign(await importJWK(key.jwk, SIGNING_ALG));
  }

  /** Public JWK of the current signing key (for forging tests: HS256 with the public key as secret). */
  publicJwk(): JWK {
    const { d: _d, ...pub } = this.#keys[0]!.jwk;
    return pub;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Approves (or aborts) a device login at the provider as `login`: the
 * confirm page, its dev login form, the consent form, following redirects
 * with a cookie jar. Returns the last page's title.
 */
export async function approveAtIdp(
  link: string,
  login: string,
  options: { abort?: boolean } = {},
): Promise<string> {
  const cookies = new Map<string, string>();
  let aborted = false;
  let next: { url: string; method: 'GET' | 'POST'; body?: URLSearchParams } = { url: link, method: 'GET' };
  for (let step = 0; step < 20; step += 1) {
    const res = await fetch(next.url, {
      method: next.method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(next.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(next.body ? { body: next.body } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      next = { url: new URL(location, next.url).href, method: 'GET' };
      continue;
    }
    const html = await res.text();
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';
    const form = /<form\b[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    if (form === null || title === 'Sign-in Success' || aborted) return title;
    const body = new URLSearchParams();
    for (const input of form[2]!.matchAll(/<input\b[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input[0])?.[1];
      if (name === undefined) continue;
      const value = /value="([^"]*)"/.exec(input[0])?.[1];
      body.set(name, name === 'login' ? login : name === 'password' ? 'any-password' : (value ?? ''));
    }
    if (options.abort === true && body.has('user_code')) {
      body.set('abort', 'yes');
      aborted = true;
    }
    next = { url: new URL(form[1]!.replaceAll('&amp;', '&'), next.url).href, method: 'POST', body };
  }
  throw new Error('the provider’s pages did not end');
}

function basicAuth(client: TestClient): string {
  const encode = (s: string) => encodeURIComponent(s);
  return `Basic ${Buffer.from(`${encode(client.id)}:${encode(client.secret)}`).toString('base64')}`;
}

/** The client and settings that let people log in, when {@link PeopleOptions} are given. */
function peopleConfiguration(people: PeopleOptions | undefined) {
  if (people === undefined) return { clients: [], features: {}, rest: {} };
  return {
    clients: [
      {
        client_id: CLIENTS.login.id,
        client_secret: CLIENTS.login.secret,
        grant_types: ['authorization_code', DEVICE_CODE_GRANT],
        response_types: ['code'],
        redirect_uris: [...people.redirectUris],
        id_token_signed_response_alg: SIGNING_ALG,
      },
    ],
    features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true } },
    rest: {
      findAccount: async (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: async () => ({ sub, preferred_username: sub }),
      }),
      claims: { openid: ['sub'], profile: ['preferred_username'] },
      // Profile claims in the ID token itself (modgate reads the ID token, not userinfo).
      conformIdTokenClaims: false,
    },
  };
}

function buildProvider(
  issuer: string,
  keys: readonly SigningKey[],
  people: PeopleOptions | undefined,
): OidcProvider {
  const forPeople = peopleConfiguration(people);
  const provider = new Provider(issuer, {
    ...forPeople.rest,
    clients: [
      ...forPeople.clients,
      {
        client_id: CLIENTS.ci.id,
        client_secret: CLIENTS.ci.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        id_token_signed_response_alg: SIGNING_ALG,
        scope: RESOURCE_SCOPE,
      },
      {
        client_id: CLIENTS.modgate.id,
        client_secret: CLIENTS.modgate.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        id_token_signed_response_alg: SIGNING_ALG,
      },
    ],
    jwks: { keys: keys.map((k) => k.jwk) },
    cookies: { keys: ['test-cookie-key-not-secret'] },
    scopes: ['openid', 'profile', RESOURCE_SCOPE],
    features: {
      devInteractions: { enabled: false },
      ...forPeople.features,
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
          if (resourceIndicator !== RESOURCE) throw new Error(`unknown resource ${resourceIndicator}`);
          return {
            scope: RESOURCE_SCOPE,
            audience: RESOURCE,
            accessTokenTTL: ACCESS_TOKEN_TTL_S,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALG } },
          };
        },
      },
    },
    ttl: { ClientCredentials: ACCESS_TOKEN_TTL_S },
  });
  return provider;
}
