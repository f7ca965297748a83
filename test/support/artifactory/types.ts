/**
 * Options, settings and recorded values of the Artifactory emulator
 * (test/support/artifactory-emulator.ts). Kept apart so each emulator module
 * can import the shapes without importing the server.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What a permission grants on one repository; the emulator serves reads only. */
export type RepoPermission = 'read';

/** Repository key → permission, as a permission target grants it to a user or group. */
export type Permissions = Record<string, RepoPermission>;

/** An internal Artifactory user. */
export interface ArtifactoryUser {
  username: string;
  password: string;
  /** Groups the user belongs to; their permissions add to the user's own. */
  groups?: string[];
  permissions?: Permissions;
  /** May read everything, mint tokens for others and with any scope. */
  admin?: boolean;
}

/** Per-repository behaviour that tests may change while the emulator runs. */
export interface RepoSettings {
  /** Everybody, anonymous or not, may read (the anonymous user holds a read permission). */
  anonymousRead?: boolean;
  /**
   * "Hide Existence of Unauthorized Resources": an authenticated user without
   * permission gets the same 404 as for a missing file instead of 403.
   */
  hideUnauthorizedResources?: boolean;
  /** Direct cloud storage download: zips answer 302 to a signed storage URL. */
  redirectDownloads?: boolean;
  /**
   * Every request to the repository, once authorized, answers `status` with a
   * Location of the same path (after the repository key) on `origin`, another server.
   */
  redirectTo?: { origin: string; status: 301 | 302 | 303 | 307 | 308 } | undefined;
}

/** A Go repository served from a GOPROXY folder (gateway/protocol/goproxy-folder.ts layout). */
export interface GoRepository extends RepoSettings {
  /** The repository key in `/artifactory/api/go/<key>/...`. */
  key: string;
  /** The GOPROXY folder holding the repository's modules. */
  root: string;
}

/** Settings that `configure` may change while the emulator runs. */
export interface ArtifactorySettings {
  /** Replaces the users (tokens already minted keep their subject). */
  users?: ArtifactoryUser[];
  /** Replaces group name → permissions. Group-scoped tokens use the groups as they are at use time. */
  groups?: Record<string, Permissions>;
  /** Merged into the named repositories' settings. */
  repositories?: Record<string, RepoSettings>;
  /** Lifetime of a signed storage URL (seconds). */
  signedUrlTtlSeconds?: number;
  /** Accept requests on the Artifactory listener but never answer them. */
  hang?: boolean;
}

/** Certificate and key (PEM) for https listeners, e.g. from harness/tls.ts `makeTestPki`. */
export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

/** Options of `startArtifactoryEmulator`. */
export interface ArtifactoryOptions extends Omit<ArtifactorySettings, 'repositories'> {
  repositories: GoRepository[];
  /** Serve https (both listeners) with this certificate instead of plain http. */
  tls?: TlsMaterial;
}

/** How a request authenticated. */
export type AuthKind = 'none' | 'password' | 'basic-token' | 'bearer';

/** Why authentication failed (the client always just sees 401). */
export type AuthFailure =
  | 'malformed'
  | 'unsupported-scheme'
  | 'bad-password'
  | 'unknown-token'
  | 'expired-token'
  | 'revoked-token'
  | 'subject-mismatch';

/** One request as the Artifactory listener received it. */
export interface ArtifactoryRequest {
  method: string;
  /** Raw request target, e.g. `/artifactory/api/go/go-corp/corp.example/x/@v/list`. */
  url: string;
  /** Percent-decoded path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  time: Date;
  /** How the request authenticated; `none` also when it failed (see `authFailure`). */
  authKind: AuthKind;
  /** The authenticated user (a token's subject for token authentication). */
  username?: string;
  /** The `token_id` of the access token used. */
  tokenId?: string;
  authFailure?: AuthFailure;
  /** Status answered; undefined while unanswered (hanging). */
  status?: number;
}

/** One request as the storage listener received it. */
export interface StorageRequest {
  method: string;
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  time: Date;
  status?: number;
}

/** One token minted through `POST /access/api/v1/tokens`. */
export interface MintRecord {
  tokenId: string;
  /** The token's subject. */
  username: string;
  scope: string;
  /** Seconds; 0 means the token never expires. */
  expiresIn: number;
  refreshable: boolean;
  audience: string;
  description?: string;
  grantType: 'client_credentials' | 'refresh_token';
  /** Who authenticated the mint request. */
  requestedBy: string;
  time: Date;
}

/** A token the test issues directly (not through the REST API, not in `mints`). */
export interface TokenSpec {
  username: string;
  /** Default `applied-permissions/user`. */
  scope?: string;
  /** Seconds; default one year; 0 never expires. */
  expiresIn?: number;
  refreshable?: boolean;
  audience?: string;
  /** Also issue a reference token (`include_reference_token`). */
  referenceToken?: boolean;
}

/** A token issued by `issueToken`. */
export interface IssuedToken {
  tokenId: string;
  accessToken: string;
  referenceToken?: string;
  refreshToken?: string;
}

/** What an injected failure does: answer with this status, or never answer. */
export type Failure = number | 'hang';

/** Which requests an injected failure applies to. */
export interface FailureTarget {
  /** Default `artifactory`. */
  listener?: 'artifactory' | 'storage';
  /** Only requests whose decoded path starts with this. */
  pathPrefix?: string;
}
