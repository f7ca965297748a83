import {
  constants,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
  PerformanceObserver,
} from 'node:perf_hooks';

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
 * many concurrent small downloads: BENCHMARKS.md, bench/stream section). It
 * needs `gc`, which the launch flag `--expose-gc` provides (bin/modgate.ts,
 * package.json, Dockerfile); without it nothing is asked and streams merely
 * use more memory.
 *
 * A scavenge asked for while V8 is marking the old generation makes it
 * finish marking at once, in one long pause (25–36 ms against 3–10 ms when
 * marking ends by itself); so while marking runs, as perf_hooks' `gc`
 * entries tell (see watchMarking), the hint waits.
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
  #marking = false;

  constructor(everyBytes: number, gc: MinorGc | undefined) {
    this.#everyBytes = everyBytes;
    this.#gc = gc;
  }

  /** Counts `bytes` streamed; asks for a scavenge each time another `everyBytes` went by, unless marking runs. */
  streamed(bytes: number): void {
    if (this.#gc === undefined) return;
    this.#since += bytes;
    if (this.#since < this.#everyBytes || this.#marking) return;
    this.#since = 0;
    this.#gc({ type: 'minor' });
  }

  /** V8 started marking the old generation (incremental marking). */
  markingStarted(): void {
    this.#marking = true;
  }

  /** V8 finished a major GC: marking is over. */
  markingEnded(): void {
    this.#marking = false;
  }
}

/**
 * Tells `hint` when V8 marks the old generation, from perf_hooks' `gc`
 * entries (delivered shortly after each GC): an `incremental` entry when
 * marking starts, a `major` one when the mark-compact is done.
 */
export function watchMarking(hint: ScavengeHint): PerformanceObserver {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // A 'gc' entry's detail is a NodeGCPerformanceDetail (the typings leave `detail` off the base class).
      noteGc(hint, (entry as PerformanceEntry & { detail: NodeGCPerformanceDetail }).detail.kind);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

/** What a GC of `kind` (perf_hooks' NODE_PERFORMANCE_GC_*) tells the hint. */
export function noteGc(hint: ScavengeHint, kind: number): void {
  if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) hint.markingStarted();
  else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) hint.markingEnded();
}

/** The process's hint, fed by every streamed body (see countBytes). */
export const streamScavenges = new ScavengeHint(SCAVENGE_EVERY_BYTES, globalThis.gc);
if (globalThis.gc !== undefined) watchMarking(streamScavenges);
