import cluster from 'node:cluster';
import { once } from 'node:events';
import { rotateIfFull } from '../../gateway/ops/audit-file.ts';

/** Pause before replacing a worker that died (ms), so a crash loop cannot spin the CPU. */
const RESPAWN_DELAY_MS = 1_000;
/** How often the primary looks at the size of the audit file the workers share (ms). */
const AUDIT_SIZE_CHECK_MS = 1_000;
/** The message that tells a worker to reopen its audit file. */
const REOPEN_AUDIT = 'modgate:reopen-audit';

/** The audit file the workers append to, which the primary rotates by size. */
export interface SharedAuditFile {
  readonly path: string;
  /** 0: never rotated by modgate (an external logrotate + SIGHUP). */
  readonly rotateBytes: number;
  readonly keep: number;
}

/**
 * The primary of `workers: N` (node:cluster): forks N gateway workers that
 * share the listening port, replaces one that dies, prints the banner once
 * the first worker listens, and on SIGTERM/SIGINT forwards the signal so each
 * worker drains gracefully, then waits for them all. Workers share state only
 * through the state store (Redis); in-process state is per worker.
 */
export async function runPrimary(
  workers: number,
  banner: (url: string) => string,
  audit?: SharedAuditFile,
): Promise<number> {
  let stopping = false;
  const reopenAudit = () => {
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send(REOPEN_AUDIT);
  };
  // Workers never rotate a shared file themselves (each would count only its own
  // bytes, and two renames could cross): the primary does, then has them reopen.
  const rotation =
    audit !== undefined && audit.rotateBytes > 0
      ? setInterval(() => {
          if (rotateIfFull(audit.path, audit.rotateBytes, audit.keep)) reopenAudit();
        }, AUDIT_SIZE_CHECK_MS)
      : undefined;
  rotation?.unref();
  // SIGHUP (an external logrotate moved the file) goes to the primary's pid: pass it on.
  process.on('SIGHUP', reopenAudit);
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
  clearInterval(rotation);
  const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  for (const w of alive) w.process.kill(signal as NodeJS.Signals);
  await Promise.all(alive.map((w) => (w.isDead() ? undefined : once(w, 'exit'))));
  return 0;
}

/** In a worker: tell the primary where the gateway listens. */
export function announceListening(url: string): void {
  process.send?.({ listening: url });
}

/** In a worker: calls `reopen` whenever the primary has rotated the shared audit file. */
export function onAuditRotated(reopen: () => void): void {
  process.on('message', (m: unknown) => {
    if (m === REOPEN_AUDIT) reopen();
  });
}
