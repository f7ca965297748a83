/**
 * `POST /access/api/v1/tokens`, "Create Token" of the JFrog Platform Access
 * API (JFrog REST APIs, "Create Token" and "Notes on the Create Token API";
 * docs.jfrog.com/administration/reference/createToken):
 * - body `application/x-www-form-urlencoded` or `application/json`;
 * - `grant_type` `client_credentials` (default) or `refresh_token` (with
 *   `refresh_token`; the caller must be the token's user or an admin);
 * - `username` (default: the caller; only an admin may name someone else),
 *   `scope` (default `applied-permissions/user`; only an admin may ask for
 *   `admin` or `groups:` scopes; a `user` scope needs an existing user),
 *   `expires_in` (seconds, default one year, 0 = never and admin only),
 *   `refreshable`, `audience` (default `*@*`), `description`,
 *   `include_reference_token`;
 * - 200 `{ token_id, access_token, refresh_token?, expires_in?, scope,
 *   token_type: "Bearer", reference_token? }`; 400 invalid input, 401
 *   unauthenticated (the caller's job), 403 not allowed for this caller.
 */
import { CHALLENGE, type Directory, isAdmin, type Principal } from './auth.ts';
import { type Exchange, JSON_TYPE, readBody, reply, replyError } from './http.ts';
import {
  DEFAULT_AUDIENCE,
  DEFAULT_EXPIRES_IN_S,
  MAX_SCOPE_CHARS,
  parseScope,
  type TokenRecord,
  type TokenStore,
  USER_SCOPE,
} from './tokens.ts';
import type { MintRecord } from './types.ts';

/** The Create Token endpoint of the JFrog Platform (Access service). */
export const TOKENS_PATH = '/access/api/v1/tokens';

/** Largest accepted Create Token body (bytes). */
export const MAX_TOKEN_BODY_BYTES = 64 * 1024;

/** A Create Token request after parsing. */
export interface TokenRequest {
  grantType: string;
  username?: string;
  scope?: string;
  expiresIn?: number;
  refreshable: boolean;
  audience?: string;
  description?: string;
  includeReferenceToken: boolean;
  refreshToken?: string;
}

/** An error answer: status and the message for Artifactory's error body. */
export interface ApiError {
  status: number;
  message: string;
}

/** A successful mint. */
export interface Minted {
  record: TokenRecord;
  grantType: 'client_credentials' | 'refresh_token';
  body: Record<string, unknown>;
}

/**
 * Answers one Create Token request of an already authenticated (or
 * anonymous: 401) caller; returns what was minted, if anything.
 */
export async function serveCreateToken(
  x: Exchange,
  caller: Principal,
  directory: Directory,
  store: TokenStore,
): Promise<MintRecord | undefined> {
  if (x.req.method !== 'POST') return void replyError(x, 405, 'Method not allowed');
  if (caller.kind === 'none') return void replyError(x, 401, 'Unauthenticated', CHALLENGE);
  const body = await readBody(x.req, MAX_TOKEN_BODY_BYTES);
  if (body === undefined) return void replyError(x, 413, 'Request body too large');
  const request = parseTokenRequest(body, x.req.headers['content-type']);
  const result = 'status' in request ? request : createToken(request, caller, directory, store);
  if ('status' in result) return void replyError(x, result.status, result.message);
  reply(x, 200, { 'content-type': JSON_TYPE }, `${JSON.stringify(result.body, null, 2)}\n`);
  const { record: t, grantType } = result;
  return {
    tokenId: t.tokenId,
    username: t.username,
    scope: t.scope,
    expiresIn: t.expiresIn,
    refreshable: t.refreshable,
    audience: t.audience,
    ...(t.description === undefined ? {} : { description: t.description }),
    grantType,
    requestedBy: caller.username,
    time: new Date(),
  };
}

/** Parses a form or JSON body; booleans and numbers may come as strings in either. */
export function parseTokenRequest(body: string, contentType: string | undefined): TokenRequest | ApiError {
  let fields: Record<string, unknown>;
  if (/^application\/json\b/i.test(contentType ?? '')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return bad('request body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return bad('request body must be a JSON object');
    }
    fields = parsed as Record<string, unknown>;
  } else {
    fields = Object.fromEntries(new URLSearchParams(body));
  }
  const request: TokenRequest = {
    grantType: 'client_credentials',
    refreshable: false,
    includeReferenceToken: false,
  };
  for (const [name, value] of Object.entries(fields)) {
    const problem = setField(request, name, value);
    if (problem !== undefined) return bad(problem);
  }
  return request;
}

/** Text fields: request key and documented length limit (characters). */
const TEXT_FIELDS: Record<string, [keyof TokenRequest, number]> = {
  grant_type: ['grantType', 64],
  refresh_token: ['refreshToken', 255],
  username: ['username', 255],
  scope: ['scope', MAX_SCOPE_CHARS],
  audience: ['audience', 255],
  description: ['description', 1024],
};

/** Flag fields and their request key. */
const FLAG_FIELDS: Record<string, 'refreshable' | 'includeReferenceToken'> = {
  refreshable: 'refreshable',
  include_reference_token: 'includeReferenceToken',
};

/** Sets one body field on `request`; returns the problem when the value is invalid. */
function setField(request: TokenRequest, name: string, value: unknown): string | undefined {
  const text = TEXT_FIELDS[name];
  if (text !== undefined) {
    const [key, max] = text;
    if (typeof value !== 'string' || value.length > max)
      return `${name} must be a string of at most ${max} characters`;
    Object.assign(request, { [key]: value });
    return undefined;
  }
  const flag = FLAG_FIELDS[name];
  if (flag !== undefined) {
    if (value !== true && value !== false && value !== 'true' && value !== 'false') {
      return `${name} must be true or false`;
    }
    request[flag] = value === true || value === 'true';
    return undefined;
  }
  if (name === 'expires_in') {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\d+$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isSafeInteger(n) || n < 0) return 'expires_in must be a non-negative integer (seconds)';
    request.expiresIn = n;
  }
  return undefined; // project_key, force_revocable, ...: accepted, not emulated
}

/** Mints (or refreshes) a token for an authenticated caller, or says why not. */
export function createToken(
  request: TokenRequest,
  caller: Exclude<Principal, { kind: 'none' }>,
  directory: Directory,
  store: TokenStore,
): Minted | ApiError {
  const admin = isAdmin(caller, directory);
  if (request.grantType === 'refresh_token') return refresh(request, caller, admin, store);
  if (request.grantType !== 'client_credentials') return bad(`unsupported grant_type "${request.grantType}"`);
  const username = request.username ?? caller.username;
  if (username !== caller.username && !admin)
    return forbidden('only an admin can create a token for another user');
  const scope = request.scope ?? USER_SCOPE;
  const grant = parseScope(scope);
  if (grant === undefined) return bad(`invalid or unsupported scope "${scope}"`);
  if ((grant.admin || grant.groups.length > 0) && !admin) {
    return forbidden('only an admin can create a token with an admin or groups scope');
  }
  if (grant.user && !directory.users.some((u) => u.username === username)) {
    return bad(`user "${username}" does not exist; a user scope needs an existing user`);
  }
  const expiresIn = request.expiresIn ?? DEFAULT_EXPIRES_IN_S;
  if (expiresIn === 0 && !admin) return forbidden('only an admin can create a non-expiring token');
  const record = store.mint({
    username,
    scope,
    grant,
    expiresIn,
    refreshable: request.refreshable,
    audience: request.audience ?? DEFAULT_AUDIENCE,
    ...(request.description === undefined ? {} : { description: request.description }),
    referenceToken: request.includeReferenceToken,
  });
  return { record, grantType: 'client_credentials', body: responseBody(record) };
}

function refresh(
  request: TokenRequest,
  caller: Exclude<Principal, { kind: 'none' }>,
  admin: boolean,
  store: TokenStore,
): Minted | ApiError {
  if (request.refreshToken === undefined)
    return bad('refresh_token is required with grant_type refresh_token');
  const old = store.refreshable(request.refreshToken);
  if (old === undefined) return bad('invalid or already used refresh_token');
  if (old.username !== caller.username && !admin)
    return forbidden('the refresh token belongs to another user');
  store.redeemRefresh(request.refreshToken);
  const record = store.mint({
    username: old.username,
    scope: old.scope,
    grant: old.grant,
    expiresIn: request.expiresIn ?? old.expiresIn,
    refreshable: true,
    audience: old.audience,
    ...(old.description === undefined ? {} : { description: old.description }),
    referenceToken: request.includeReferenceToken,
  });
  return { record, grantType: 'refresh_token', body: responseBody(record) };
}

function responseBody(record: TokenRecord): Record<string, unknown> {
  return {
    token_id: record.tokenId,
    access_token: record.accessToken,
    ...(record.refreshToken === undefined ? {} : { refresh_token: record.refreshToken }),
    ...(record.expiresIn === 0 ? {} : { expires_in: record.expiresIn }),
    scope: record.scope,
    token_type: 'Bearer',
    ...(record.referenceToken === undefined ? {} : { reference_token: record.referenceToken }),
  };
}

function bad(message: string): ApiError {
  return { status: 400, message };
}

function forbidden(message: string): ApiError {
  return { status: 403, message };
}
