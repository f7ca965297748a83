/**
 * An in-process stand-in for JFrog Artifactory as JFrog documents it
 * describes it and as JFrog documents it (sources in each module's comment,
 * test/support/artifactory/*.ts):
 * - Go repositories at `/artifactory/api/go/<repo-key>/...` served from
 *   GOPROXY folders (go-repo.ts);
 * - Basic `user:password`, Basic `user:<token>` (user = the token's subject)
 *   and `Bearer <token>` (auth.ts);
 * - `POST /access/api/v1/tokens` with scopes, expiry and refresh
 *   (token-endpoint.ts, tokens.ts);
 * - 401 with `WWW-Authenticate: Basic realm="Artifactory Realm"`, 403, and 404
 *   instead of 403 under "Hide Existence of Unauthorized Resources" (JFrog
 *   Platform Administration: "an anonymous request will result in a request
 *   for authentication (401), and a request by an unauthorized authenticated
 *   user will simply be denied (403)"), JSON error bodies;
 * - 302 to a signed URL on a second "storage" listener, unless
 *   `X-JFrog-Download-Redirect-To: None` (storage.ts).
 * Both listeners bind 127.0.0.1 (http, or https with `tls`) and record every
 * request; failures can be injected for circuit-breaker tests.
 */
import type { IncomingMessage } from 'node:http';
import { authenticate, CHALLENGE, canRead, type Directory } from './artifactory/auth.ts';
import { GO_API_PREFIX, NOT_FOUND_MESSAGE, serveGo } from './artifactory/go-repo.ts';
import { attempt, closeServer, type Exchange, listen, reply, replyError } from './artifactory/http.ts';
import { DEFAULT_SIGNED_URL_TTL_S, STORAGE_PREFIX, serveStorage, UrlSigner } from './artifactory/storage.ts';
import { serveCreateToken, TOKENS_PATH } from './artifactory/token-endpoint.ts';
import {
  DEFAULT_AUDIENCE,
  DEFAULT_EXPIRES_IN_S,
  parseScope,
  TokenStore,
  USER_SCOPE,
} from './artifactory/tokens.ts';
import type {
  ArtifactoryOptions,
  ArtifactoryRequest,
  ArtifactorySettings,
  Failure,
  FailureTarget,
  GoRepository,
  IssuedToken,
  MintRecord,
  StorageRequest,
  TokenSpec,
} from './artifactory/types.ts';

export { ARTIFACTORY_REALM } from './artifactory/auth.ts';
export { TOKENS_PATH } from './artifactory/token-endpoint.ts';
export type * from './artifactory/types.ts';

/** Unauthenticated liveness endpoint ("System Health Ping"): `OK`. */
const PING_PATH = '/artifactory/api/system/ping';

/** A running emulator and its test controls. */
export interface ArtifactoryEmulator {
  /** The platform URL, `http(s)://127.0.0.1:<port>`; the token endpoint is `url + TOKENS_PATH`. */
  url: string;
  port: number;
  /** `url + '/artifactory'`. */
  artifactoryUrl: string;
  /** The GOPROXY URL of a repository: `url/artifactory/api/go/<key>`. */
  goproxyUrl(repoKey: string): string;
  /** The storage listener that zips redirect to, and what it received. */
  storage: { url: string; port: number; requests: StorageRequest[] };
  /** Every request to the Artifactory listener, oldest first. */
  requests: ArtifactoryRequest[];
  /** Every token minted or refreshed through the REST API, oldest first. */
  mints: MintRecord[];
  /** Forgets recorded requests (both listeners) and mints; tokens stay valid. */
  clear(): void;
  configure(settings: ArtifactorySettings): void;
  /** The next `count` matching requests (default 1, Artifactory listener) answer `failure` or hang. */
  failNext(failure: Failure, count?: number, target?: FailureTarget): void;
  /** Issues a token directly, e.g. the admin token modgate holds (not recorded in `mints`). */
  issueToken(spec: TokenSpec): IssuedToken;
  /** Revokes a token by `token_id` or value; false when unknown. */
  revokeToken(idOrValue: string): boolean;
  /** Moves the emulator's clock (token and signed-URL expiry) forward. */
  advanceClock(seconds: number): void;
  /** Stops both listeners and destroys every connection, hanging ones included. */
  close(): Promise<void>;
}

/** Starts the Artifactory and storage listeners on 127.0.0.1 on ports the kernel picks. */
export async function startArtifactoryEmulator(options: ArtifactoryOptions): Promise<ArtifactoryEmulator> {
  const repositories = new Map<string, GoRepository>(options.repositories.map((r) => [r.key, { ...r }]));
  const directory: Directory = { users: options.users ?? [], groups: options.groups ?? {} };
  const settings = {
    hang: options.hang ?? false,
    ttl: options.signedUrlTtlSeconds ?? DEFAULT_SIGNED_URL_TTL_S,
  };
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  const tokens = new TokenStore(now);
  const signer = new UrlSigner(now);
  const requests: ArtifactoryRequest[] = [];
  const storageRequests: StorageRequest[] = [];
  const mints: MintRecord[] = [];
  const failures: { failure: Failure; target: FailureTarget }[] = [];

  /** Removes and returns the first injected failure that applies to this request. */
  const takeFailure = (listener: 'artifactory' | 'storage', path: string): Failure | undefined => {
    const i = failures.findIndex(
      ({ target }) =>
        (target.listener ?? 'artifactory') === listener && path.startsWith(target.pathPrefix ?? ''),
    );
    return i < 0 ? undefined : failures.splice(i, 1)[0]!.failure;
  };

  const storage = await listen((req, res) => {
    const { url, path } = parseTarget(req);
    const record: StorageRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      path: path ?? '',
      headers: { ...req.headers },
      time: new Date(),
    };
    storageRequests.push(record);
    const x: Exchange = { req, res, record };
    const failure = takeFailure('storage', record.path);
    if (failure === 'hang') return;
    if (failure !== undefined) return replyError(x, failure, 'emulated failure');
    if (path === undefined) return replyError(x, 400, 'invalid path');
    serveStorage(x, url, path, signer, repositories).catch(() => internalError(x));
  }, options.tls);

  const storageUrl = (repo: GoRepository, file: string) =>
    signer.sign(storage.origin, `${STORAGE_PREFIX}${repo.key}/${file}`, settings.ttl);

  async function route(x: Exchange & { record: ArtifactoryRequest }, path: string): Promise<void> {
    if (path === PING_PATH) return reply(x, 200, { 'content-type': 'text/plain' }, 'OK');
    const isTokens = path === TOKENS_PATH;
    if (!isTokens && !path.startsWith(GO_API_PREFIX)) return replyError(x, 404, NOT_FOUND_MESSAGE);
    const auth = authenticate(x.req.headers.authorization, directory, tokens);
    if ('failure' in auth) {
      x.record.authFailure = auth.failure;
      const message =
        auth.failure === 'expired-token' ? 'Token failed verification: expired' : 'Bad credentials';
      return replyError(x, 401, message, CHALLENGE);
    }
    const { principal } = auth;
    x.record.authKind = principal.kind;
    if (principal.kind !== 'none') x.record.username = principal.username;
    if (principal.kind === 'basic-token' || principal.kind === 'bearer')
      x.record.tokenId = principal.token.tokenId;
    if (isTokens) {
      const minted = await serveCreateToken(x, principal, directory, tokens);
      if (minted !== undefined) mints.push(minted);
      return;
    }
    if (x.req.method !== 'GET' && x.req.method !== 'HEAD') return replyError(x, 405, 'Method not allowed');
    const rest = path.slice(GO_API_PREFIX.length);
    const slash = rest.indexOf('/');
    const repo = repositories.get(slash < 0 ? rest : rest.slice(0, slash));
    if (repo === undefined) return replyError(x, 404, NOT_FOUND_MESSAGE);
    if (!canRead(principal, repo, directory)) {
      if (principal.kind === 'none') return replyError(x, 401, 'Authentication is required', CHALLENGE);
      if (repo.hideUnauthorizedResources === true) return replyError(x, 404, NOT_FOUND_MESSAGE);
      return replyError(x, 403, 'Forbidden');
    }
    return serveGo(x, repo, slash < 0 ? '' : rest.slice(slash), storageUrl);
  }

  const main = await listen((req, res) => {
    const { path } = parseTarget(req);
    const record: ArtifactoryRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      path: path ?? '',
      headers: { ...req.headers },
      time: new Date(),
      authKind: 'none',
    };
    requests.push(record);
    const x = { req, res, record };
    if (settings.hang) return;
    const failure = takeFailure('artifactory', record.path);
    if (failure === 'hang') return;
    if (failure !== undefined) return replyError(x, failure, 'emulated failure');
    if (path === undefined) return replyError(x, 400, 'invalid path');
    route(x, path).catch(() => internalError(x));
  }, options.tls);

  return {
    url: main.origin,
    port: main.port,
    artifactoryUrl: `${main.origin}/artifactory`,
    goproxyUrl: (key) => `${main.origin}${GO_API_PREFIX}${key}`,
    storage: { url: storage.origin, port: storage.port, requests: storageRequests },
    requests,
    mints,
    clear: () => {
      requests.splice(0);
      storageRequests.splice(0);
      mints.splice(0);
    },
    configure: (s) => {
      if (s.users !== undefined) directory.users = s.users;
      if (s.groups !== undefined) directory.groups = s.groups;
      for (const [key, repo] of Object.entries(s.repositories ?? {})) {
        const current = repositories.get(key);
        if (current === undefined) throw new RangeError(`configure: no repository ${key}`);
        Object.assign(current, repo);
      }
      if (s.signedUrlTtlSeconds !== undefined) settings.ttl = s.signedUrlTtlSeconds;
      if (s.hang !== undefined) settings.hang = s.hang;
    },
    failNext: (failure, count = 1, target = {}) => {
      for (let i = 0; i < count; i++) failures.push({ failure, target });
    },
    issueToken: (spec) => {
      const scope = spec.scope ?? USER_SCOPE;
      const grant = parseScope(scope);
      if (grant === undefined) throw new RangeError(`issueToken: unsupported scope "${scope}"`);
      const t = tokens.mint({
        username: spec.username,
        scope,
        grant,
        expiresIn: spec.expiresIn ?? DEFAULT_EXPIRES_IN_S,
        refreshable: spec.refreshable ?? false,
        audience: spec.audience ?? DEFAULT_AUDIENCE,
        referenceToken: spec.referenceToken ?? false,
      });
      return {
        tokenId: t.tokenId,
        accessToken: t.accessToken,
        ...(t.referenceToken === undefined ? {} : { referenceToken: t.referenceToken }),
        ...(t.refreshToken === undefined ? {} : { refreshToken: t.refreshToken }),
      };
    },
    revokeToken: (idOrValue) => tokens.revoke(idOrValue),
    advanceClock: (seconds) => {
      clockOffsetMs += seconds * 1000;
    },
    close: async () => {
      await Promise.all([closeServer(main.server), closeServer(storage.server)]);
    },
  };
}

/** The parsed target and its percent-decoded path (undefined for bad escapes). */
function parseTarget(req: IncomingMessage): { url: URL; path: string | undefined } {
  const url = new URL(req.url ?? '/', 'http://emulator');
  return { url, path: attempt(() => decodeURIComponent(url.pathname)) };
}

function internalError(x: Exchange): void {
  if (x.res.headersSent) x.res.destroy();
  else replyError(x, 500, 'internal error');
}
