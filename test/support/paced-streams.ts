/**
 * Concurrent request loops for a fixed time, each at most one request per
 * interval: the number of requests is bounded by streams × duration ÷ interval
 * whatever the machine's speed, so a test that streams requests never runs
 * into a rate limit on a fast machine.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface PacedStreamsOptions {
  /** Loops running at once. */
  readonly streams: number;
  /** How long the loops run (ms). */
  readonly durationMs: number;
  /** Shortest time between the starts of two requests of one loop (ms). */
  readonly intervalMs: number;
}

export interface PacedStreamsResult {
  readonly requests: number;
  /** One entry per request whose check returned a failure text. */
  readonly failures: string[];
}

/** The most requests {@link pacedStreams} can send with these options. */
export function maxPacedRequests(o: PacedStreamsOptions): number {
  return o.streams * Math.ceil(o.durationMs / o.intervalMs);
}

/**
 * Runs `request(stream)` in `streams` loops until `durationMs` has passed;
 * `request` resolves to a failure text, or undefined when the answer was right.
 */
export async function pacedStreams(
  options: PacedStreamsOptions,
  request: (stream: number) => Promise<string | undefined>,
): Promise<PacedStreamsResult> {
  const started = Date.now();
  const failures: string[] = [];
  let requests = 0;
  const loop = async (stream: number) => {
    while (Date.now() - started < options.durationMs) {
      const begun = Date.now();
      const failure = await request(stream);
      requests++;
      if (failure !== undefined) failures.push(failure);
      const wait = options.intervalMs - (Date.now() - begun);
      if (wait > 0) await delay(wait);
    }
  };
  await Promise.all(Array.from({ length: options.streams }, (_, i) => loop(i)));
  return { requests, failures };
}
