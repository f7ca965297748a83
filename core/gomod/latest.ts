import { isPseudoVersion, isValid, prerelease, sort } from './semver.ts';

/**
 * The version a GOPROXY `@latest` answers with, from a module's version list,
 * as the go command's proxy query picks it: the newest release, else the
 * newest pre-release, else the newest pseudo-version. Invalid entries are
 * ignored; undefined for an empty list.
 */
export function pickLatest(versions: readonly string[]): string | undefined {
  const sorted = sort(versions.filter(isValid));
  const tagged = sorted.filter((v) => !isPseudoVersion(v));
  return tagged.filter((v) => prerelease(v) === '').at(-1) ?? tagged.at(-1) ?? sorted.at(-1);
}
