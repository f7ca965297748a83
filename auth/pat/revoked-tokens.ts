/**
 * Where revoked personal access tokens are remembered. auth/ defines the
 * interface; the gateway adapts its shared state store (Redis) to it.
 *
 * What the store needs (for the lead's adapter): a set of revoked `jti`s,
 * each kept until the token's own `exp` (`untilMs`) and then dropped, since an
 * expired token fails verification anyway. Listing tokens by owner needs a
 * second record written at issue time: owner → { jti, scope, created, exp,
 * label } (never the token itself), pruned after `exp`.
 */

/** The revocation list of personal access tokens, shared by all gateway processes. */
export interface RevokedTokens {
  /** Whether `jti` was revoked. Rejects when the store cannot answer (never read as "not revoked"). */
  isRevoked(jti: string): Promise<boolean>;
  /** Revokes `jti` until `untilMs` (milliseconds since the epoch; the token's `exp`). */
  revoke(jti: string, untilMs: number): Promise<void>;
}

/** A process-local revocation list, for tests and single-process installations. */
export class MemoryRevokedTokens implements RevokedTokens {
  readonly #until = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async isRevoked(jti: string): Promise<boolean> {
    const until = this.#until.get(jti);
    if (until === undefined) return false;
    if (until <= this.#now()) {
      this.#until.delete(jti);
      return false;
    }
    return true;
  }

  async revoke(jti: string, untilMs: number): Promise<void> {
    this.#until.set(jti, Math.max(untilMs, this.#until.get(jti) ?? 0));
  }
}
