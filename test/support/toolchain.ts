/**
 * Stand-in Go toolchains for the toolchain-switching tests: the module
 * `golang.org/toolchain@v0.0.1-<go version>.<goos>-<goarch>` as the go
 * command (≥1.21) downloads it (cmd/go/internal/toolchain/select.go `Exec`),
 * written into a GOPROXY folder. Of a real toolchain zip the go command needs
 * `bin/go`, which it execs, and files under `pkg/tool`, `lib` and
 * `bin/gofmt`: it walks those to set execute bits (zips carry none) and fails
 * when one is missing; it copies `src/_go.mod` only when there is one. So
 * `bin/go` here is a shell script that prints a `go version` line naming the
 * stand-in, which a test can tell from the local go, and the others are
 * placeholders.
 */
import { TOOLCHAIN_MODULE } from '../../core/gomod/toolchain.ts';
import { writeModuleVersion } from '../../gateway/protocol/goproxy-folder.ts';
import { hash1 } from './modules.ts';

/** GOARCH names of Node's `process.arch` values that a go command runs on. */
const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

/** The platform of this machine's go command as toolchain versions name it, e.g. `linux-amd64`. */
export const HOST_PLATFORM = `${process.platform}-${GOARCH[process.arch] ?? process.arch}`;

/** A written stand-in toolchain. */
export interface WrittenToolchain {
  /** `go1.99.1`. */
  readonly name: string;
  /** The module version, `v0.0.1-go1.99.1.linux-amd64`. */
  readonly version: string;
  /** What `go version` prints when the stand-in runs. */
  readonly versionLine: string;
  /** The go.sum lines of the version (zip and go.mod), for a checksum database. */
  readonly goSum: string;
}

/** The module version of toolchain `name` (`go1.99.1`) for `platform` (`linux-amd64`). */
export function toolchainVersion(name: string, platform = HOST_PLATFORM): string {
  return `v0.0.1-${name}.${platform}`;
}

/**
 * Writes toolchain `name` (`go1.99.1`) for `platform` into the GOPROXY folder
 * `root`: `.info`, `.mod` (`module golang.org/toolchain`, no go.mod in the
 * zip, as the real ones) and a zip holding `bin/go`.
 */
export async function writeToolchain(
  root: string,
  name: string,
  platform = HOST_PLATFORM,
): Promise<WrittenToolchain> {
  const version = toolchainVersion(name, platform);
  const versionLine = `go version ${name} ${platform.replace('-', '/')}`;
  const script = `#!/bin/sh\nif [ "$1" = version ]; then echo "${versionLine}"; else echo "${name} stand-in toolchain ran: $*"; fi\n`;
  const placeholder = `${name} stand-in: not a real toolchain\n`;
  const files = {
    'bin/go': script,
    'bin/gofmt': placeholder,
    [`pkg/tool/${platform.replace('-', '_')}/vet`]: placeholder,
    'lib/time/README': placeholder,
  };
  const written = await writeModuleVersion(root, {
    path: TOOLCHAIN_MODULE,
    version,
    time: new Date(Date.UTC(2024, 0, 1)),
    goMod: null,
    files,
  });
  const sum = hash1(
    Object.entries(files).map(([file, text]) => [`${TOOLCHAIN_MODULE}@${version}/${file}`, text]),
  );
  const goModSum = hash1([['go.mod', written.goMod]]);
  const goSum = `${TOOLCHAIN_MODULE} ${version} ${sum}\n${TOOLCHAIN_MODULE} ${version}/go.mod ${goModSum}\n`;
  return { name, version, versionLine, goSum };
}
