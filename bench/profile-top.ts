/**
 * bench/profile-top: summarises a V8 CPU profile (`--cpu-prof`, e.g. the
 * gateway's under `BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" npm run
 * bench`): where the time went by area (modgate's folders, each npm package,
 * Node internals, GC), and the functions with the most self and total time.
 *
 * Run: node bench/profile-top.ts <file.cpuprofile> [rows]
 */
import { readFile } from 'node:fs/promises';

/** Rows per list unless told. */
const DEFAULT_ROWS = 25;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a modgate folder, an npm package, node internals, or a V8 pseudo-frame. */
function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg !== null) return `npm:${pkg[1]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = url.match(/\/(gateway|auth|policies|core|bin)\//);
  return own === null ? url : `modgate:${own[1]}/`;
}

function frameKey(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^.*\/(node_modules\/|work\/main\/)/, '');
  return `${functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${lineNumber + 1}`}`.trim();
}

function table(title: string, totals: Map<string, number>, all: number, rows: number): string {
  const top = [...totals].sort((a, b) => b[1] - a[1]).slice(0, rows);
  const lines = top.map(
    ([k, us]) =>
      `${((100 * us) / all).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
  );
  return `${title}\n${lines.join('\n')}`;
}

async function main(file: string, rows: number): Promise<void> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const area = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') return;
    all += us;
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + us);
    add(self, frameKey(node));
    add(area, areaOf(node.callFrame.url, node.callFrame.functionName));
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = node; n !== undefined; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = frameKey(n);
      if (!seen.has(k)) add(total, k);
      seen.add(k);
    }
  });
  console.log(`${file}: ${(all / 1000).toFixed(0)} ms on CPU (idle excluded)\n`);
  console.log(table('self time by area', area, all, rows));
  console.log(`\n${table('self time by function', self, all, rows)}`);
  console.log(`\n${table('total time by function (self + callees)', total, all, rows)}`);
}

const [file, rows] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/profile-top.ts <file.cpuprofile> [rows]');
  process.exitCode = 2;
} else {
  await main(file, Number(rows ?? DEFAULT_ROWS));
}
