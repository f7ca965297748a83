import cluster from 'node:cluster';
import { once } from 'node:events';

/** Pause before replacing a worker that died (ms), so a crash loop cannot spin the CPU. */
const RESPAWN_DELAY_MS = 1_000;

/**
 * The primary of `workers: N` (node:cluster): forks N gateway workers that
 * share the listening port, replaces one that dies, prints the banner once
 * the first worker listens, and on SIGTERM/SIGINT forwards the signal so each
 * worker drains gracefully, then waits for them all. Workers share state only
 * through the state store (Redis); in-process state is per worker.
 */
export async function runPrimary(workers: number, banner: (url: string) => string): Promise<number> {
  let stopping = false;
  let announced = false;
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (m: unknown) => {
      const url = (m as { listening?: unknown } | null)?.listening;
      if (typeof url === 'string' && !announced) {
        announced = true;
        process.stdout.write(banner(url));
      }
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(
        `modgate: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
      );
      setTimeout(() => {
        if (!stopping) fork();
      }, RESPAWN_DELAY_MS).unref();
    });
  };
  for (let i = 0; i < workers; i++) fork();
  const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]).then(
    () => 'SIGTERM',
  );
  stopping = true;
  const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  for (const w of alive) w.process.kill(signal as NodeJS.Signals);
  await Promise.all(alive.map((w) => (w.isDead() ? undefined : once(w, 'exit'))));
  return 0;
}

/** In a worker: tell the primary where the gateway listens. */
export function announceListening(url: string): void {
  process.send?.({ listening: url });
}
