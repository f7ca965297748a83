/**
 * Small pieces of the one-line reasons abuse protection gives the go command
 * (`too many failed logins for alice; try again in 840s`).
 */

/** Longest client-supplied name shown in a reason (characters); longer ones are cut with `…`. */
export const MAX_SHOWN_NAME_CHARS = 64;

/** Whole seconds for `Retry-After` (RFC 9110 §10.2.3): `ms` rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * A duration in Go's spelling without zero parts, as gateway.yaml writes it:
 * 300ms, 1.5s, 1m, 1m30s, 1h, 2h15m.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

/**
 * A client-supplied name fit for a one-line reason: control characters
 * become spaces (so it cannot forge a log line or end the reason), and it is
 * cut at {@link MAX_SHOWN_NAME_CHARS}.
 */
export function shownName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const printable = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  const chars = [...printable];
  return chars.length > MAX_SHOWN_NAME_CHARS
    ? `${chars.slice(0, MAX_SHOWN_NAME_CHARS).join('')}…`
    : printable;
}
