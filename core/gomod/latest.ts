import { isPseudoVersion, isValid, sort } from './semver.ts';
import { compareToolchainVersions, isPrereleaseOf, TOOLCHAIN_MODULE } from './toolchain.ts';

/**
 * The version a GOPROXY `@latest` answers with, from a module's version list,
 * as the go command's proxy query picks it: the newest release, else the
 * newest pre-release, else the newest pseudo-version. Invalid entries are
 * ignored; undefined for an empty list. For golang.org/toolchain, "newest"
 * and "release" are Go's (core/gomod/toolchain.ts): go1.21.0 is a release
 * newer than go1.21rc2, which semver would call the newer.
 */
export function pickLatest(versions: readonly string[], module = ''): string | undefined {
  const valid = versions.filter(isValid);
  const sorted =
    module === TOOLCHAIN_MODULE
      ? valid.sort((a, b) => compareToolchainVersions(a, b) || (a < b ? -1 : a > b ? 1 : 0))
      : sort(valid);
  const tagged = sorted.filter((v) => !isPseudoVersion(v));
  return tagged.filter((v) => !isPrereleaseOf(module, v)).at(-1) ?? tagged.at(-1) ?? sorted.at(-1);
}
