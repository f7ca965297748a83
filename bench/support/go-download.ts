/**
 * Wall time of `go mod download` of the bench graph (see bench-modules.ts)
 * with the real go command, a fresh module cache and build cache every run,
 * through one GOPROXY: plain http to the upstream (go needs no credentials
 * there), or https with a netrc entry, as developers configure modgate.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GO, type GoBinary, makeGoEnv, netrcMachines, runGo, writeNetrc } from '../../harness/go.ts';
import { BENCH_PREFIX, GRAPH_MODULES } from './bench-modules.ts';

/** Upper bound for one `go mod download` of the graph (ms). */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** How go reaches the proxy under test. */
export interface GoTarget {
  goproxy: string;
  /** For https targets: the CA to trust and the netrc credential. */
  caCertPath?: string;
  user?: { login: string; password: string };
}

/**
 * Runs `go mod download` with `go` in the graph's root module `rootDir` `runs`
 * times (each with an empty module cache under `scratch`) and returns the wall
 * times (ms). Throws when go fails or did not fetch the whole graph.
 */
export async function timeGoModDownload(
  rootDir: string,
  scratch: string,
  target: GoTarget,
  runs: number,
  go: GoBinary = GO,
): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const dir = await mkdtemp(join(scratch, 'go-'));
    try {
      const env = await makeGoEnv(dir, { goproxy: target.goproxy, caCertPath: target.caCertPath });
      if (target.user !== undefined) {
        // Both forms: go ≤1.23 looks up the host, go ≥1.24 host:port.
        const machines = netrcMachines(target.goproxy, 'both');
        await writeNetrc(
          env.netrc,
          machines.map((machine) => ({ machine, ...target.user! })),
        );
      }
      const t0 = performance.now();
      const result = await runGo(['mod', 'download'], {
        env: env.env,
        cwd: rootDir,
        timeoutMs: DOWNLOAD_TIMEOUT_MS,
        go,
      });
      times.push(performance.now() - t0);
      if (result.code !== 0) {
        throw new Error(
          `${go.version} mod download via ${target.goproxy} failed (${result.code}):\n${result.stderr}`,
        );
      }
      const fetched = await readdir(join(env.gomodcache, 'cache', 'download', BENCH_PREFIX, 'graph'));
      if (fetched.length !== GRAPH_MODULES) {
        throw new Error(
          `go mod download via ${target.goproxy} fetched ${fetched.length} of ${GRAPH_MODULES}`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return times;
}
