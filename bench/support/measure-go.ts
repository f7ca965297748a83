import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CLIENT_GOS, CURRENT_GO } from '../../harness/go-binaries.ts';
import type { BenchWorld, Contender } from './contenders.ts';
import { type GoTarget, timeGoModDownload } from './go-download.ts';
import { measureGoFloor } from './go-floor.ts';
import { median } from './report.ts';
import { ROUNDS, roundRobin } from './rounds.ts';

/**
 * `go mod download` of the graph with the module cache on disk (as a
 * developer has it) and, where the machine has one, in tmpfs: there go's own
 * file writes, which swing the disk figure from run to run, drop out. Then
 * the floor any TLS proxy sets (bench/support/go-floor.ts); returns its lines.
 */
export async function measureGoDownloads(
  world: BenchWorld,
  contenders: readonly Contender[],
  scratch: string,
) {
  const tmpfs = await tmpfsScratch();
  const lines: string[] = [];
  try {
    for (const go of CLIENT_GOS) {
      const [disk, inTmpfs] =
        go === CURRENT_GO
          ? (['goDownloadMs', 'goDownloadTmpfsMs'] as const)
          : (['goDownloadLegacyMs', 'goDownloadLegacyTmpfsMs'] as const);
      const onDisk = await roundRobin(contenders, ROUNDS, (c) =>
        timeGoModDownload(world.graphRoot, scratch, c.go, 1, go),
      );
      for (const c of contenders) c.figures[disk] = median(onDisk.get(c)!.flat());
      if (tmpfs !== undefined) {
        const inMemory = await roundRobin(contenders, ROUNDS, (c) =>
          timeGoModDownload(world.graphRoot, tmpfs, c.go, 1, go),
        );
        for (const c of contenders) c.figures[inTmpfs] = median(inMemory.get(c)!.flat());
      }
      const once = async (target: GoTarget) =>
        (await timeGoModDownload(world.graphRoot, tmpfs ?? scratch, target, 1, go))[0]!;
      const cache = tmpfs === undefined ? 'on disk' : 'in tmpfs';
      lines.push(...(await measureGoFloor(world, scratch, ROUNDS, once, `${cache}, ${go.version}`)));
    }
    return lines;
  } finally {
    if (tmpfs !== undefined) await rm(tmpfs, { recursive: true, force: true });
  }
}

/** A new folder in /dev/shm when that is a tmpfs (Linux), else undefined. */
async function tmpfsScratch(): Promise<string | undefined> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  if (!mounts.split('\n').some((m) => /^\S+ \/dev\/shm tmpfs /.test(m))) return undefined;
  return mkdtemp(join('/dev/shm', 'modgate-bench-'));
}
