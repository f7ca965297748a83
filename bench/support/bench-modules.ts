/**
 * The modules every contender serves, written once into one GOPROXY folder:
 * a small module whose `.info` is the request-rate target, a 1 MB and a
 * 100 MB zip, and a graph of tiny modules for `go mod download` — 30 direct
 * dependencies of a root module, each requiring 9 more, 300 in all; the
 * root's go.mod lists all of them, the 270 indirect ones marked so, as
 * `go mod tidy` writes it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeLargeZip, writeModuleVersion } from '../../gateway/protocol/goproxy-folder.ts';

/** Where all bench modules live; the policy allows this tree to the bench users. */
export const BENCH_PREFIX = 'bench.example';
/** Every bench module version is this one. */
const VERSION = 'v1.0.0';
/** Commit time of the versions: old, so no cooldown rule could ever hold them back. */
const COMMIT_TIME = new Date(Date.UTC(2024, 0, 1));
const MB = 1024 * 1024;

/** The request paths of the load tests. */
export const BENCH_PATHS = {
  info: `/${BENCH_PREFIX}/info/@v/${VERSION}.info`,
  zip1m: `/${BENCH_PREFIX}/zip-1m/@v/${VERSION}.zip`,
  zip100m: `/${BENCH_PREFIX}/zip-100m/@v/${VERSION}.zip`,
} as const;

/** Size of the two zips (bytes). */
export const ZIP_BYTES = { zip1m: 1 * MB, zip100m: 100 * MB } as const;

/** Modules in the `go mod download` graph, and how many the root requires directly. */
export const GRAPH_MODULES = 300;
const GRAPH_DIRECT = 30;
/** Modules written at once (each is a handful of small files). */
const WRITE_BATCH = 25;

/** The path of graph module `i` (0 ≤ i < GRAPH_MODULES), e.g. `bench.example/graph/m042`. */
export const graphModule = (i: number) => `${BENCH_PREFIX}/graph/m${String(i).padStart(3, '0')}`;

/** Which graph modules module `i` requires: a direct dependency requires its 9 leaves. */
function requirementsOf(i: number): number[] {
  if (i >= GRAPH_DIRECT) return [];
  const fanOut = (GRAPH_MODULES - GRAPH_DIRECT) / GRAPH_DIRECT;
  return Array.from({ length: fanOut }, (_, k) => GRAPH_DIRECT + i * fanOut + k);
}

function goMod(path: string, requires: number[], indirectFrom = Number.POSITIVE_INFINITY): string {
  const lines = requires.map(
    (r) => `\t${graphModule(r)} ${VERSION}${r >= indirectFrom ? ' // indirect' : ''}`,
  );
  const block = lines.length === 0 ? '' : `\nrequire (\n${lines.join('\n')}\n)\n`;
  return `module ${path}\n\ngo 1.19\n${block}`;
}

async function writeTiny(root: string, path: string, requires: number[]): Promise<void> {
  const pkg = path.split('/').at(-1)!;
  await writeModuleVersion(root, {
    path,
    version: VERSION,
    time: COMMIT_TIME,
    goMod: goMod(path, requires),
    files: { [`${pkg}.go`]: `package ${pkg}\n\n// Name names the module.\nconst Name = "${path}"\n` },
  });
}

/** Writes every bench module into the GOPROXY folder `root`. */
export async function writeBenchModules(root: string): Promise<void> {
  await writeTiny(root, `${BENCH_PREFIX}/info`, []);
  await writeLargeZip(root, `${BENCH_PREFIX}/zip-1m`, VERSION, ZIP_BYTES.zip1m);
  await writeLargeZip(root, `${BENCH_PREFIX}/zip-100m`, VERSION, ZIP_BYTES.zip100m);
  for (let start = 0; start < GRAPH_MODULES; start += WRITE_BATCH) {
    const batch = Array.from({ length: Math.min(WRITE_BATCH, GRAPH_MODULES - start) }, (_, k) => start + k);
    await Promise.all(batch.map((i) => writeTiny(root, graphModule(i), requirementsOf(i))));
  }
}

/** Writes the root module of the graph into `dir` (its go.mod only) and returns `dir`. */
export async function writeGraphRoot(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const all = Array.from({ length: GRAPH_MODULES }, (_, i) => i);
  await writeFile(join(dir, 'go.mod'), goMod(`${BENCH_PREFIX}/root`, all, GRAPH_DIRECT));
  return dir;
}
