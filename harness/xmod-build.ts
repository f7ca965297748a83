/**
 * Builds a one-file Go program against Debian's golang.org/x/mod sources
 * (golang-golang-x-mod-dev) in GOPATH mode: no module download, no network.
 * Used for the x/mod oracle (test/support/xmod-oracle.ts) and the checksum
 * database built from x/mod's server (go-sumdb.ts).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GO, type GoBinary, LEGACY_GO, turnOffGoTelemetry } from './go.ts';

/** Where Debian installs the Go sources of golang.org/x/mod (a GOPATH root). */
export const XMOD_GOPATH = '/usr/share/gocode';

/** Upper bound for one build (milliseconds). */
const BUILD_TIMEOUT_MS = 120_000;

/** What to build: `source` becomes package `pkg` of a GOPATH under `dir`, its binary `out`; `what` names it in errors. */
export interface XmodBuild {
  readonly source: URL;
  readonly pkg: string;
  readonly dir: string;
  readonly out: string;
  readonly what: string;
  /** The go that builds it (and so the standard library x/mod runs on); default Debian's go 1.19 where the machine has it. */
  readonly go?: GoBinary;
}

/** Builds the program; rejects with go's output when the build fails. */
export async function buildAgainstXmod(build: XmodBuild): Promise<void> {
  const pkgDir = join(build.dir, 'src', build.pkg);
  await mkdir(pkgDir, { recursive: true });
  await turnOffGoTelemetry(build.dir);
  await copyFile(build.source, join(pkgDir, 'main.go'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: build.dir,
    GOPATH: `${XMOD_GOPATH}:${build.dir}`,
    GOCACHE: join(build.dir, 'gocache'),
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOPROXY: 'off',
    GOENV: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  // Debian's x/mod sources are built by Debian's go, its pair, when the machine has it.
  const child = spawn((build.go ?? LEGACY_GO ?? GO).path, ['build', '-o', build.out, build.pkg], {
    cwd: build.dir,
    env,
    timeout: BUILD_TIMEOUT_MS,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`building ${build.what} failed (exit ${code}): ${stderr.trim()}`);
}
