/**
 * What modgate remembers about the personal tokens it issued, so their owner
 * can list and revoke them. Never the token itself: a record names a token
 * by its `jti` only, and a stolen registry lets no one in.
 */
export interface TokenRecord {
  readonly jti: string;
  readonly owner: string;
  /** The owner's label for it ("laptop", "CI of team-a"). */
  readonly name: string;
  readonly scopes: readonly string[];
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** How it was minted: the set-up page or `modgate login`. */
  readonly via: 'web' | 'device';
}

/** Longest token label (characters). */
export const MAX_TOKEN_NAME_CHARS = 80;

/**
 * The per-owner list of issued tokens. Implementations keep each record until
 * its token expires and drop expired ones from `list`.
 */
export interface TokenRegistry {
  add(record: TokenRecord): Promise<void>;
  /** The owner's unexpired tokens, newest first. */
  list(owner: string): Promise<TokenRecord[]>;
  /** Removes and returns the owner's token `jti`; undefined when the owner has no such token. */
  remove(owner: string, jti: string): Promise<TokenRecord | undefined>;
}

/** A label as typed by a person: control characters dropped, trimmed, bounded; a default when empty. */
export function tokenName(raw: string | undefined, fallback: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: dropping control characters is the point
  const clean = (raw ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (clean || fallback).slice(0, MAX_TOKEN_NAME_CHARS);
}

/** Parses a stored list; records that do not have the right shape are dropped. */
export function decodeRecords(text: string | undefined): TokenRecord[] {
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter(isRecord) : [];
  } catch {
    return [];
  }
}

function isRecord(v: unknown): v is TokenRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.jti === 'string' &&
    typeof r.owner === 'string' &&
    typeof r.name === 'string' &&
    Array.isArray(r.scopes) &&
    typeof r.issuedAtMs === 'number' &&
    typeof r.expiresAtMs === 'number' &&
    (r.via === 'web' || r.via === 'device')
  );
}
