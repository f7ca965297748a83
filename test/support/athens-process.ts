/**
 * The Athens emulator as a process of its own, so a test can SIGKILL the
 * upstream (connections reset, nothing closed politely) and start it again
 * on the same port: `node test/support/athens-process.ts <root> <port>`
 * prints `listening on <url>` once it serves. {@link startAthensProcess}
 * runs it.
 */
import { fileURLToPath } from 'node:url';
import { type BenchProcess, startProcess, waitForOutput } from '../../bench/support/processes.ts';
import { startAthensEmulator } from '../../harness/athens-emulator.ts';

const SELF = fileURLToPath(import.meta.url);

/** A running emulator process and its URL. */
export interface AthensProcess extends BenchProcess {
  readonly url: string;
}

/** Starts the emulator process serving `root` on `port` and waits until it listens. */
export async function startAthensProcess(root: string, port: number): Promise<AthensProcess> {
  const proc = startProcess(process.execPath, [SELF, root, String(port)]);
  try {
    const m = await waitForOutput(proc, /listening on (http:\/\/\S+)/);
    return { ...proc, url: m[1]! };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

if (process.argv[1] === SELF) {
  const [root, port] = process.argv.slice(2);
  const athens = await startAthensEmulator({ root: root!, port: Number(port) });
  process.stdout.write(`listening on ${athens.url}\n`);
  process.once('SIGTERM', () => void athens.close().then(() => process.exit(0)));
}
