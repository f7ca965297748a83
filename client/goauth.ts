/**
 * The GOAUTH command protocol as go ≥1.24 speaks it (cmd/go/internal/auth):
 * go runs the command once without arguments and reads credential sets
 * (URL prefix lines, a blank line, header lines, a blank line); after a 4xx
 * it runs it again with the URL as its argument and the response's status
 * line and headers on stdin, and retries once with what it prints.
 */

/** One credential set: `prefix` (a modgate base URL) gets `Authorization: Bearer <token>`. */
export function credentialSet(prefix: string, token: string): string {
  return `${prefix}\n\nAuthorization: Bearer ${token}\n\n`;
}

/** The status of the response go passes on stdin (`HTTP/1.1 401 Unauthorized` …), or undefined. */
export function responseStatus(stdin: string): number | undefined {
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(stdin);
  return m ? Number(m[1]) : undefined;
}

/** Whether `url` is at or below `prefix` (go matches prefixes by whole path elements). */
export function underPrefix(prefix: string, url: string): boolean {
  return url === prefix || url.startsWith(`${prefix}/`);
}

/**
 * A GOAUTH value that runs `words` (go splits it as cmd/internal/quoted does:
 * on spaces, with '…' or "…" around a word that has spaces).
 */
export function goauthValue(words: readonly string[]): string {
  return words.map((w) => (!/[\s'"]/.test(w) ? w : w.includes("'") ? `"${w}"` : `'${w}'`)).join(' ');
}
