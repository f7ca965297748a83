/**
 * vitest global set-up: says at the start which go commands the suite will
 * drive (or, in one line, that the machine has only one generation), and at the
 * end which it did drive, counted from the runs harness/go-binaries.ts noted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_GOS, CURRENT_GO, LEGACY_GO } from '../../harness/go-binaries.ts';

export function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'modgate-go-log-'));
  const log = join(dir, 'runs');
  process.env.MODGATE_TEST_GO_LOG = log;
  const names = CLIENT_GOS.map((g) => `${g.version} (${g.path})`);
  console.log(`go: the suite drives ${names.join(' and ')}`);
  if (CURRENT_GO === undefined || LEGACY_GO === undefined) {
    console.log(
      `go: only ${names.join('')} on this machine; client-compatibility tests run with it alone (install golang-go for go 1.19, or go ≥1.24 at /usr/local/go)`,
    );
  }
  return () => {
    let runs: string[] = [];
    try {
      runs = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    const counts = new Map<string, number>();
    for (const r of runs) counts.set(r, (counts.get(r) ?? 0) + 1);
    const summary = [...counts].map(([g, n]) => `${g}: ${n} runs`).join('; ');
    console.log(`go: drove ${summary || 'no go command'}`);
  };
}
