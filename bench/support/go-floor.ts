/**
 * What any TLS proxy costs `go mod download` on this machine, measured in the
 * same run as modgate: the target (≤ 1.15× direct) is judged against
 * the upstream over plain http, while go sends credentials only over https,
 * so every contender that can authenticate a developer pays for TLS and a
 * proxy hop first. Three references without any authentication, in rounds
 * alternating with direct and modgate, module cache in tmpfs where there is
 * one (go's own disk writes swing the figures otherwise):
 * - nginx serving the same folder over TLS: TLS alone;
 * - nginx TLS + `proxy_pass` to the upstream: TLS and the proxy hop;
 * - a bare Node TLS forwarder on undici (bench/support/forwarders/undici.ts):
 *   the same in Node, with none of modgate's stages.
 */
import { join } from 'node:path';
import type { BenchWorld } from './contenders.ts';
import { startForwarder } from './forwarding-floor.ts';
import type { GoTarget } from './go-download.ts';
import { startNginxTlsProxy, startNginxTlsStatic } from './nginx.ts';
import type { BenchProcess } from './processes.ts';
import { median } from './report.ts';

/** A go target with a name for the report. */
interface Reference {
  readonly name: string;
  readonly go: GoTarget;
}

/** Runs the references beside direct and modgate; returns the report's lines. */
export async function measureGoFloor(
  world: BenchWorld,
  dir: string,
  rounds: number,
  timeOnce: (target: GoTarget) => Promise<number>,
  /** Where `timeOnce` keeps the module cache, for the report: "in tmpfs" or "on disk". */
  cache: string,
): Promise<string[]> {
  const started: BenchProcess[] = [];
  try {
    const tlsStatic = await startNginxTlsStatic(join(dir, 'nginx-tls-static'), world.pki, world.goproxyRoot);
    started.push(tlsStatic);
    const tlsProxy = await startNginxTlsProxy(join(dir, 'nginx-tls-proxy'), world.pki, world.direct.url);
    started.push(tlsProxy);
    const forwarder = await startForwarder('undici', { upstreamUrl: world.direct.url, pki: world.pki });
    started.push(forwarder);
    // Any credential works on the references; go needs the CA and sends the netrc entry.
    const https = (url: string) => ({ ...world.modgate.go, goproxy: url });
    const references: Reference[] = [
      { name: world.direct.name, go: world.direct.go },
      { name: 'nginx static over TLS, no auth (TLS alone)', go: https(tlsStatic.url) },
      { name: 'nginx TLS + proxy_pass, no auth (TLS and a proxy hop)', go: https(tlsProxy.url) },
      { name: 'bare Node TLS forwarder, undici, no auth', go: https(forwarder.url) },
      { name: world.modgate.name, go: world.modgate.go },
    ];
    const times = new Map<Reference, number[]>(references.map((r) => [r, []]));
    for (let round = 0; round < rounds; round++) {
      for (const r of references) times.get(r)!.push(await timeOnce(r.go));
    }
    const direct = median(times.get(references[0]!)!);
    return [
      `go mod download through references without authentication (median of ${rounds} alternating runs, ratios to direct), module cache ${cache}`,
      ...references.map((r) => {
        const ms = median(times.get(r)!);
        return `  ${r.name}: ${(ms / 1000).toFixed(2)} s, ${(ms / direct).toFixed(2)}×`;
      }),
    ];
  } finally {
    for (const p of started.reverse()) await p.stop();
  }
}
