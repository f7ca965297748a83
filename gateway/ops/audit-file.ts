import { once } from 'node:events';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import pino from 'pino';

/** What pino writes to: one JSON line per call. */
export interface AuditStream {
  write(line: string): void;
  /** Writes out what is buffered, unless a new file is still opening (then it follows shortly). */
  flushSync(): void;
  /** Resolves when no new file is opening. */
  ready(): Promise<void>;
  /** Writes out everything buffered and closes the file. */
  close(): Promise<void>;
  /** Reopens the file by its path (after an external logrotate moved it). */
  reopen(): void;
}

/**
 * Makes room for a fresh `path`: `path.<keep>` is removed, older files shift
 * up by one, `path` becomes `path.1` (or is removed when `keep` is 0). Whoever
 * still has `path` open goes on writing into `path.1` until it reopens.
 */
export function shiftRotated(path: string, keep: number): void {
  rmSync(`${path}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  }
  if (keep > 0) renameSync(path, `${path}.1`);
  else rmSync(path, { force: true });
}

/**
 * For an audit file that several worker processes append to (`workers: N`):
 * when it has reached `maxBytes`, shifts it (see {@link shiftRotated}) and
 * returns true; the caller then tells every writer to reopen. Only one
 * process (the cluster primary) may call this, so rotations never race.
 */
export function rotateIfFull(path: string, maxBytes: number, keep: number): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false; // not there yet: no writer has written
  }
  if (maxBytes <= 0 || size < maxBytes) return false;
  shiftRotated(path, keep);
  return true;
}

/**
 * The audit file, rotated by size: when it passes `maxBytes`, `audit.log`
 * becomes `audit.log.1` (older ones shift up to `.<keep>`, the oldest is
 * removed) and a fresh file is opened. With `maxBytes` 0 it never rotates
 * itself; `reopen()` (wired to SIGHUP) then supports an external logrotate.
 * Writes are asynchronous (SonicBoom); a rotation renames and reopens, and
 * lines still buffered at that moment go to the new file: no line is lost,
 * reordered or split, and a file may pass `maxBytes` by what was buffered.
 */
export async function openAuditFile(path: string, maxBytes: number, keep: number): Promise<AuditStream> {
  const dest = pino.destination({ dest: path, sync: false, mkdir: true });
  await once(dest, 'ready');
  let written = 0;
  // While the new file opens, lines queue in memory; a rotation waits until it is open.
  let opening = false;
  dest.on('ready', () => {
    opening = false;
  });
  const rotate = () => {
    if (opening) return;
    // A write in flight finishes into the renamed file; reopen() waits for it.
    shiftRotated(path, keep);
    opening = true;
    dest.reopen();
    written = 0;
  };
  return {
    write(line) {
      dest.write(line);
      written += Buffer.byteLength(line);
      if (maxBytes > 0 && written >= maxBytes) rotate();
    },
    flushSync: () => {
      if (!opening) dest.flushSync();
    },
    close: async () => {
      if (opening) await once(dest, 'ready');
      const closed = once(dest, 'close');
      dest.end();
      await closed;
    },
    ready: () => (opening ? once(dest, 'ready').then(() => undefined) : Promise.resolve()),
    reopen: () => {
      if (opening) return;
      opening = true;
      dest.reopen();
      written = 0;
    },
  };
}
