/**
 * The module the go command (≥1.21) downloads toolchains as:
 * `golang.org/toolchain@v0.0.1-go<version>.<goos>-<goarch>`
 * (cmd/go/internal/toolchain/select.go `Exec`, modfetch/toolchain.go
 * `dlToGo`), e.g. `v0.0.1-go1.21rc2.linux-amd64`. Its versions are semver
 * pre-releases of v0.0.1 only by accident of form: semver orders
 * `go1.21rc2` after `go1.99.0`, so they are compared here as the go command
 * compares them, by the Go version inside (core/gomod/gover.ts).
 */
import { compareGoVersions, fromToolchain, isGoPrerelease } from './gover.ts';
import * as semver from './semver.ts';

/** The toolchain module's path. */
export const TOOLCHAIN_MODULE = 'golang.org/toolchain';

/** What a toolchain module version names. */
export interface ToolchainVersion {
  /** The Go version, e.g. `1.21rc2`. */
  readonly go: string;
  /** `<goos>-<goarch>`, e.g. `linux-amd64`. */
  readonly platform: string;
}

/**
 * The Go version and platform of a toolchain module version
 * (`v0.0.1-go1.21rc2.linux-amd64` → `1.21rc2`, `linux-amd64`), read as the
 * go command's `dlToGo` cuts it and its toolchain list sorts it (by
 * `FromToolchain`); undefined when it has not that form or the Go version is
 * invalid.
 */
export function parseToolchainVersion(version: string): ToolchainVersion | undefined {
  const dash = version.indexOf('-');
  if (dash < 0) return undefined;
  const rest = version.slice(dash + 1);
  const dot = rest.lastIndexOf('.');
  if (dot < 0 || !rest.slice(dot + 1).includes('-')) return undefined;
  // As the go command sorts toolchains: by FromToolchain, which drops a `-suffix` (go1.21.1-bigcorp is 1.21.1).
  const go = fromToolchain(rest.slice(0, dot));
  return go === '' ? undefined : { go, platform: rest.slice(dot + 1) };
}

/**
 * Orders toolchain module versions by their Go version, then platform (as
 * strings). Anything without a valid Go version sorts below, and all such
 * are equal to each other, as the go command sorts them (gover.Compare of
 * FromToolchain, which is "" for every one of them).
 */
export function compareToolchainVersions(a: string, b: string): number {
  const ta = parseToolchainVersion(a);
  const tb = parseToolchainVersion(b);
  if (ta === undefined || tb === undefined) {
    return ta === tb ? 0 : ta === undefined ? -1 : 1;
  }
  return (
    compareGoVersions(ta.go, tb.go) || (ta.platform === tb.platform ? 0 : ta.platform < tb.platform ? -1 : 1)
  );
}

/** How versions of `module` are ordered: by Go version for the toolchain module, else by semver. */
export function versionOrder(module: string): (a: string, b: string) => number {
  return module === TOOLCHAIN_MODULE ? compareToolchainVersions : semver.compare;
}

/** Whether a version of `module` is a pre-release: of Go for the toolchain module, of semver otherwise. */
export function isPrereleaseOf(module: string, version: string): boolean {
  if (module !== TOOLCHAIN_MODULE) return semver.prerelease(version) !== '';
  const t = parseToolchainVersion(version);
  return t === undefined || isGoPrerelease(t.go);
}
