/**
 * The forwarding floor ("if the forwarding library itself is the
 * bottleneck, measure forwarding on undici against it in the same run and
 * switch if it wins by more than 25%"). Three minimal HTTPS servers, each its
 * own Node process (bench/support/forwarders/), forward `.info` to the bench's
 * nginx upstream over a keep-alive pool of 64 with no auth, policy or audit:
 * http-proxy-3 as modgate used it, undici's `Pool.stream`, and Node's
 * `http.request`. wrk loads them in alternating rounds; the figures are req/s
 * and, steadier on a shared machine, each server's CPU time per request.
 */
import { fileURLToPath } from 'node:url';
import { gatewayNodeFlags } from '../../harness/node-flags.ts';
import type { TestPki } from '../../harness/tls.ts';
import { type BenchProcess, cpuSeconds, startProcess, waitForOutput } from './processes.ts';
import { median } from './report.ts';
import { runLoad } from './wrk.ts';

/** How much less CPU per request a library must need to be worth switching to (it must win by more than 25 %). */
const SWITCH_MARGIN = 1.25;

/** A forwarder: what the report calls it and its file under forwarders/. */
const FORWARDERS = {
  httpProxy3: { name: 'http-proxy-3 (createProxyServer, as remote.ts had it)', file: 'http-proxy-3.ts' },
  undici: { name: 'undici (Pool.stream)', file: 'undici.ts' },
  nodeHttp: { name: 'node:http request + pipe', file: 'node-http.ts' },
} as const;
type Kind = keyof typeof FORWARDERS;

/** How to load the forwarders. */
export interface FloorOptions {
  /** The upstream's origin (the bench's nginx over http). */
  upstreamUrl: string;
  /** The bench PKI: the forwarders serve its server certificate. */
  pki: TestPki;
  /** The request path (`.info`). */
  path: string;
  connections: number;
  threads: number;
  /** Seconds of each measured round, and of the one unmeasured warm-up round per forwarder. */
  seconds: number;
  warmupSeconds: number;
  rounds: number;
}

interface Running extends BenchProcess {
  readonly url: string;
}

interface Round {
  rps: number;
  cpuUs: number;
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');

/** Starts one forwarder in front of `upstreamUrl`, serving the bench certificate of `pki`. */
export async function startForwarder(
  kind: Kind,
  options: Pick<FloorOptions, 'upstreamUrl' | 'pki'>,
): Promise<Running> {
  const file = fileURLToPath(new URL(`./forwarders/${FORWARDERS[kind].file}`, import.meta.url));
  // The gateway's own Node flags, so that the floor runs with its GC settings.
  const flags = await gatewayNodeFlags();
  const proc = startProcess(process.execPath, [
    ...flags,
    file,
    options.upstreamUrl,
    options.pki.certPath,
    options.pki.keyPath,
  ]);
  try {
    const m = await waitForOutput(proc, /listening on (https:\/\/\S+)/);
    return { ...proc, url: m[1]! };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** Measures the three forwarders; returns the lines of the report. */
export async function measureForwardingFloor(options: FloorOptions): Promise<string[]> {
  const kinds = Object.keys(FORWARDERS) as Kind[];
  const running = new Map<Kind, Running>();
  try {
    for (const kind of kinds) running.set(kind, await startForwarder(kind, options));
    const load = (kind: Kind, seconds: number) =>
      runLoad({
        url: running.get(kind)!.url + options.path,
        connections: options.connections,
        seconds,
        threads: options.threads,
      });
    for (const kind of kinds) await load(kind, options.warmupSeconds);
    const rounds = new Map<Kind, Round[]>(kinds.map((k) => [k, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of kinds) {
        const { pid } = running.get(kind)!;
        const cpu = await cpuSeconds(pid);
        const r = await load(kind, options.seconds);
        const cpuUs = (((await cpuSeconds(pid)) - cpu) / r.requests) * 1e6;
        rounds.get(kind)!.push({ rps: r.requestsPerSecond, cpuUs });
      }
    }
    return report(rounds, options);
  } finally {
    for (const proc of running.values()) await proc.stop();
  }
}

function report(rounds: ReadonlyMap<Kind, Round[]>, options: FloorOptions): string[] {
  const fig = (kind: Kind) => {
    const rs = rounds.get(kind)!;
    return { rps: median(rs.map((r) => r.rps)), cpuUs: median(rs.map((r) => r.cpuUs)), rs };
  };
  const base = fig('httpProxy3');
  const lines = [
    `Forwarding floor: .info at ${options.connections} connections through minimal HTTPS forwarders ` +
      `(no auth, policy or audit; keep-alive pool of 64 to the same nginx upstream; the gateway's Node flags), ` +
      `median of ${options.rounds} rounds of ${options.seconds} s alternating them:`,
  ];
  for (const kind of Object.keys(FORWARDERS) as Kind[]) {
    const f = fig(kind);
    lines.push(
      `  ${FORWARDERS[kind].name}: ${int(f.rps)} req/s, ${f.cpuUs.toFixed(0)} µs CPU/request ` +
        `(rounds ${f.rs.map((r) => int(r.rps)).join(' / ')} req/s, ${f.rs.map((r) => r.cpuUs.toFixed(0)).join(' / ')} µs)`,
    );
  }
  for (const kind of ['undici', 'nodeHttp'] as const) {
    const f = fig(kind);
    lines.push(
      `  ${FORWARDERS[kind].name} ÷ http-proxy-3: CPU/request ${(f.cpuUs / base.cpuUs).toFixed(2)}×, ` +
        `req/s ${(f.rps / base.rps).toFixed(2)}×`,
    );
  }
  const margin = base.cpuUs / fig('undici').cpuUs;
  lines.push(
    `  undici wins by more than ${Math.round((SWITCH_MARGIN - 1) * 100)}% on CPU per request ` +
      `(http-proxy-3 ÷ undici > ${SWITCH_MARGIN.toFixed(2)}): ${margin > SWITCH_MARGIN ? 'YES' : 'no'} ` +
      `(${margin.toFixed(2)})`,
  );
  return lines;
}
