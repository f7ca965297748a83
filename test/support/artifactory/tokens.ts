/**
 * The emulator's access tokens: scope parsing and an in-memory store. Tokens
 * are JWT-shaped like JFrog's (header.payload.signature, base64url; payload
 * claims `sub`, `scp`, `aud`, `iss`, `exp`, `iat`, `jti`) but are checked only
 * against the store, so revocation and the emulator clock apply at once.
 *
 * Scopes follow "Create Scoped Token" (JFrog REST APIs): a space-separated
 * list of `applied-permissions/user`, `applied-permissions/admin` and
 * `applied-permissions/groups:<g>[,<g>...]` (names may be double-quoted to
 * hold commas or spaces). Other scope kinds are not emulated.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { AuthFailure } from './types.ts';

/** Default lifetime of a token (seconds): one year, as documented for Create Token. */
export const DEFAULT_EXPIRES_IN_S = 365 * 24 * 60 * 60;

/** Documented default audience of a token: every service of every JFrog instance. */
export const DEFAULT_AUDIENCE = '*@*';

/** The default scope: the subject's own permissions (an identity token). */
export const USER_SCOPE = 'applied-permissions/user';

/** Documented length limit of `scope` (characters). */
export const MAX_SCOPE_CHARS = 500;

const SCOPE_PREFIX = 'applied-permissions/';
const GROUPS_PREFIX = `${SCOPE_PREFIX}groups:`;

/** Reference tokens are base64 of `reftkn:01:...`, so they start with this. */
const REFERENCE_TOKEN_PREFIX = Buffer.from('reftkn').toString('base64');

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What a scope grants, resolved against users and groups when the token is used. */
export interface ScopeGrant {
  user: boolean;
  admin: boolean;
  groups: string[];
}

/** A token in the store. */
export interface TokenRecord {
  tokenId: string;
  accessToken: string;
  referenceToken?: string;
  refreshToken?: string;
  /** The subject. */
  username: string;
  scope: string;
  grant: ScopeGrant;
  audience: string;
  description?: string;
  /** Seconds; 0 never expires. */
  expiresIn: number;
  /** Emulator clock (ms) after which the token is expired; undefined: never. */
  expiresAtMs?: number;
  refreshable: boolean;
  revoked: boolean;
}

/** What {@link TokenStore.mint} needs. */
export interface MintSpec {
  username: string;
  scope: string;
  grant: ScopeGrant;
  expiresIn: number;
  refreshable: boolean;
  audience: string;
  description?: string;
  referenceToken: boolean;
}

/** The grant of a scope string, or undefined when it is empty, too long or holds a scope kind not emulated. */
export function parseScope(scope: string): ScopeGrant | undefined {
  if (scope.length > MAX_SCOPE_CHARS) return undefined;
  const grant: ScopeGrant = { user: false, admin: false, groups: [] };
  const parts = splitOutsideQuotes(scope.trim(), ' ').filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  for (const part of parts) {
    if (part === USER_SCOPE) grant.user = true;
    else if (part === `${SCOPE_PREFIX}admin`) grant.admin = true;
    else if (part.startsWith(GROUPS_PREFIX)) {
      const names = splitOutsideQuotes(part.slice(GROUPS_PREFIX.length), ',').map((n) =>
        n.replaceAll('"', ''),
      );
      if (names.some((n) => n === '')) return undefined;
      grant.groups.push(...names);
    } else return undefined;
  }
  return grant;
}

/** Whether a Basic password is an access token (JWT) or a reference token rather than a password. */
export function isTokenShaped(secret: string): boolean {
  return JWT_RE.test(secret) || secret.startsWith(REFERENCE_TOKEN_PREFIX);
}

/** Access tokens by value, with the emulator's clock deciding expiry. */
export class TokenStore {
  readonly #now: () => number;
  readonly #key = randomBytes(32);
  readonly #issuer = `jfac@${randomUUID()}`;
  readonly #byValue = new Map<string, TokenRecord>();
  readonly #byRefresh = new Map<string, TokenRecord>();

  /** `now`: the emulator clock (milliseconds since the epoch). */
  constructor(now: () => number) {
    this.#now = now;
  }

  mint(spec: MintSpec): TokenRecord {
    const tokenId = randomUUID();
    const now = this.#now();
    const expiresAtMs = spec.expiresIn === 0 ? undefined : now + spec.expiresIn * 1000;
    const { referenceToken, ...fields } = spec;
    const record: TokenRecord = {
      ...fields,
      tokenId,
      accessToken: this.#jwt(tokenId, spec, now, expiresAtMs),
      revoked: false,
    };
    if (expiresAtMs !== undefined) record.expiresAtMs = expiresAtMs;
    this.#byValue.set(record.accessToken, record);
    if (referenceToken) {
      const ref = `reftkn:01:${Math.floor((expiresAtMs ?? 0) / 1000)}:${randomBytes(24).toString('base64url')}`;
      record.referenceToken = Buffer.from(ref).toString('base64');
      this.#byValue.set(record.referenceToken, record);
    }
    if (spec.refreshable) {
      record.refreshToken = randomUUID();
      this.#byRefresh.set(record.refreshToken, record);
    }
    return record;
  }

  /** The live token with this value (access or reference token), or why it is not live. */
  verify(value: string): TokenRecord | AuthFailure {
    const record = this.#byValue.get(value);
    if (record === undefined) return 'unknown-token';
    if (record.revoked) return 'revoked-token';
    if (record.expiresAtMs !== undefined && this.#now() >= record.expiresAtMs) return 'expired-token';
    return record;
  }

  /** The token a refresh token belongs to, unless unknown or already used. */
  refreshable(refreshToken: string): TokenRecord | undefined {
    return this.#byRefresh.get(refreshToken);
  }

  /** Consumes a refresh token and revokes the access token it belongs to (Refresh Token replaces it). */
  redeemRefresh(refreshToken: string): void {
    const record = this.#byRefresh.get(refreshToken);
    this.#byRefresh.delete(refreshToken);
    if (record !== undefined) record.revoked = true;
  }

  /** Revokes the token with this `token_id` or value; false when there is none. */
  revoke(idOrValue: string): boolean {
    const record =
      this.#byValue.get(idOrValue) ?? [...this.#byValue.values()].find((r) => r.tokenId === idOrValue);
    if (record === undefined) return false;
    record.revoked = true;
    return true;
  }

  #jwt(tokenId: string, spec: MintSpec, nowMs: number, expiresAtMs: number | undefined): string {
    const header = { ver: '2', typ: 'JWT', alg: 'HS256', kid: this.#issuer };
    const payload = {
      sub: `${this.#issuer}/users/${spec.username}`,
      scp: spec.scope,
      aud: spec.audience,
      iss: this.#issuer,
      ...(expiresAtMs === undefined ? {} : { exp: Math.floor(expiresAtMs / 1000) }),
      iat: Math.floor(nowMs / 1000),
      jti: tokenId,
    };
    const signed = `${b64url(header)}.${b64url(payload)}`;
    return `${signed}.${createHmac('sha256', this.#key).update(signed).digest('base64url')}`;
  }
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Splits at `separator` where it is not inside double quotes; quotes are kept. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
