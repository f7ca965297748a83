/** Bytes of streamed bodies (all streams of the process together) between two scavenges asked for. */
export const SCAVENGE_EVERY_BYTES = 4 * 2 ** 20;

/** V8's GC entry point as `--expose-gc` installs it (only the form used here). */
export type MinorGc = (options: { type: 'minor' }) => void;

/**
 * Frees streamed chunks promptly. A body streams as 64 KB Buffers whose
 * memory lives outside V8's heap and is released only when a young-generation
 * GC (a scavenge) collects their small JS wrappers. Streaming allocates
 * little JS, so with V8's default young generation scavenges are rare while
 * bodies flow and released chunks pile up (bench/stream: 53–71 MB over idle).
 * A scavenge asked for every few MB streamed keeps that near 12 MB, at about
 * half a millisecond each (but V8 then starts major marking more often on
 * many concurrent small downloads: BENCHMARKS.md, bench/stream section). It needs `gc`, which the launch flag `--expose-gc`
 * provides (bin/modgate.ts, package.json, Dockerfile); without it nothing is
 * asked and streams merely use more memory.
 *
 * This replaces `--max-semi-space-size=1`, which bounded that memory by
 * scavenging every 1 MB of any allocation: small requests then paid a
 * scavenge every ~20 requests, promoting whatever was in flight to the old
 * generation and so a mark-compact every few seconds (BENCHMARKS.md).
 */
export class ScavengeHint {
  readonly #everyBytes: number;
  readonly #gc: MinorGc | undefined;
  #since = 0;

  constructor(everyBytes: number, gc: MinorGc | undefined) {
    this.#everyBytes = everyBytes;
    this.#gc = gc;
  }

  /** Counts `bytes` streamed; asks for a scavenge each time another `everyBytes` went by. */
  streamed(bytes: number): void {
    if (this.#gc === undefined) return;
    this.#since += bytes;
    if (this.#since < this.#everyBytes) return;
    this.#since = 0;
    this.#gc({ type: 'minor' });
  }
}

/** The process's hint, fed by every streamed body (see countBytes). */
export const streamScavenges = new ScavengeHint(SCAVENGE_EVERY_BYTES, globalThis.gc);
