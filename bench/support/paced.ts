/**
 * Latency at a fixed request rate. At saturation (wrk's closed loop) a
 * contender's latency is mostly queueing — connections ÷ throughput — and
 * says nothing about what one request costs on its way through. Here every
 * connection waits between requests (bench/support/paced.lua), so the total
 * rate is a fixed `rate` req/s, below every contender's saturation, and the
 * latency measured is that of a request meeting an idle-ish server.
 */
import { fileURLToPath } from 'node:url';
import { type LoadResult, runLoad } from './wrk.ts';

/** The fixed rate of the latency figures (req/s, all connections together): below every contender's saturation. */
export const PACED_RATE = 400;
/**
 * Share of the reachable rate ({@link reachableRate}) a contender must reach
 * to count as having kept it. Each connection pauses after a response, so a
 * response time of L ms lowers the rate by L / (pause + L): 1 ms against an
 * 80 ms pause is 1.2 %. Falling short by more than this means responses took
 * a sizeable part of the pause: the contender was near saturation and its
 * latency is queueing again.
 */
export const RATE_KEPT_SHARE = 0.9;
/** The wrk script that paces the connections. */
export const PACED_SCRIPT = fileURLToPath(new URL('./paced.lua', import.meta.url));

/** Mean pause of each connection before each request (ms) so that `connections` together send `rate` req/s. */
export function pacingIntervalMs(rate: number, connections: number): number {
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new RangeError(`rate must be a positive number, not ${rate}`);
  if (!Number.isInteger(connections) || connections < 1)
    throw new RangeError(`connections must be a positive integer, not ${connections}`);
  return (1000 * connections) / rate;
}

/**
 * The most a paced run of `seconds` can show (req/s, as wrk counts: requests
 * completed ÷ duration): each connection first pauses one interval on average
 * before its first request, so it sends one request fewer than rate × time.
 */
export function reachableRate(rate: number, connections: number, seconds: number): number {
  return rate - connections / seconds;
}

/** Whether a paced run kept its rate: within {@link RATE_KEPT_SHARE} of what it could reach. */
export function keptRate(achieved: number, rate: number, connections: number, seconds: number): boolean {
  return achieved >= reachableRate(rate, connections, seconds) * RATE_KEPT_SHARE;
}

/** One paced wrk run. */
export interface PacedOptions {
  url: string;
  connections: number;
  seconds: number;
  threads: number;
  authorization?: string | undefined;
  /** Intended total rate (req/s). */
  rate: number;
}

/** Runs wrk at a fixed total rate; its result's requestsPerSecond is the rate achieved. */
export function runPaced(options: PacedOptions): Promise<LoadResult> {
  const { rate, ...load } = options;
  const interval = pacingIntervalMs(rate, options.connections);
  return runLoad({ ...load, script: { path: PACED_SCRIPT, args: [String(interval)] } });
}
