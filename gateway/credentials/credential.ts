/**
 * The credential seam: what modgate sends upstream as `Authorization` for a
 * given subject. Routes pick a credential by subject (`group:team-a` →
 * `artifactory-team-a`); the upstream asks the credential for the header
 * value right before each request and never caches it itself.
 *
 * Rules every provider keeps:
 * - The returned value is a secret: callers put it on the upstream request
 *   only (never on a redirect to another host, never in a client response,
 *   never in a log line).
 * - Failures are ModgateErrors whose `message`, `detail` and `cause` hold no
 *   secret: not the returned value, not the provider's own key material.
 * - `close()` releases sockets and timers; later calls are refused.
 */
import type { Principal } from '../../core/principal.ts';
export interface CredentialProvider {
  /** The credential's name in gateway.yaml, for logs and error messages. */
  readonly name: string;
  /** `static` or `artifactory-token`, for logs and metrics labels. */
  readonly kind: CredentialKind;
  /**
   * The `Authorization` header value to send upstream for `subject` (e.g.
   * `Basic ...` or `Bearer ...`). `signal` gives up waiting (the request went
   * away); it never cancels work other callers share.
   */
  authorization(subject: Principal, signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

export type CredentialKind = 'static' | 'artifactory-token';

/** `Basic base64(user:secret)` (RFC 7617 section 2); the user must not contain a colon. */
export function basicAuthorization(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}
