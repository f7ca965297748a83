/**
 * The standard fixture modules every end-to-end test serves: a GOPROXY folder
 * written with gateway/protocol/goproxy-folder.ts plus a description of it, including
 * the files the go command (1.19, checked in test/harness.test.ts) leaves in
 * `$GOMODCACHE/cache/download` after `go mod download <path>@<version>`.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { escapePath, escapeVersion } from '../../core/gomod/module.ts';
import { writeModuleVersion } from '../../gateway/protocol/goproxy-folder.ts';

/** One version of a fixture module. */
export interface FixtureVersion {
  version: string;
  /** Content of the `.mod` file (the zip's go.mod when {@link hasGoMod}). */
  goMod: string;
  /** False for `+incompatible` versions: the zip has no go.mod. */
  hasGoMod: boolean;
  /** Files in the zip, relative to the module root, sorted. */
  files: string[];
  /** The go.sum hash of the zip (`h1:`, dirhash Hash1), as `go mod download -json` reports `Sum`. */
  sum: string;
  /** The go.sum hash of the `.mod` file, as `go mod download -json` reports `GoModSum`. */
  goModSum: string;
  /** Files under `$GOMODCACHE/cache/download` after downloading only this version, sorted. */
  cacheFiles: string[];
}

/** One fixture module and its versions, oldest first. */
export interface FixtureModule {
  path: string;
  /** The path as it appears in URLs and on disk (uppercase → `!` + lowercase). */
  escapedPath: string;
  versions: FixtureVersion[];
  /** The version `@latest` resolves to. */
  latest: string;
  /** Name of the package at the module root (imported by the module path), which has `func Hello() string`. */
  packageName: string;
  /** Looks private (corporate host) — must never be routed to a public upstream. */
  private: boolean;
}

/** The fixture GOPROXY folder and what it holds. */
export interface FixtureSet {
  root: string;
  /** `file://` URL of the folder, a GOPROXY value the go command accepts. */
  goproxy: string;
  modules: FixtureModule[];
}

/** Fixed commit times so zips and their hashes are the same on every run. */
const BASE_TIME_MS = Date.UTC(2024, 0, 1);

/** One day (milliseconds); fixture versions are a day apart. */
const DAY_MS = 24 * 60 * 60 * 1000;

interface Plan {
  path: string;
  versions: string[];
  pkg: string;
  hasGoMod: boolean;
  private?: boolean;
  /** More files besides `<pkg>.go` and LICENSE, by path relative to the module root. */
  extraFiles?: Record<string, string>;
}

const PLANS: Plan[] = [
  { path: 'example.com/hello', versions: ['v1.0.0', 'v1.1.0', 'v1.2.0'], pkg: 'hello', hasGoMod: true },
  { path: 'github.com/Acme/Tool', versions: ['v1.0.0'], pkg: 'tool', hasGoMod: true },
  { path: 'example.com/lib/v2', versions: ['v2.0.0', 'v2.1.0'], pkg: 'lib', hasGoMod: true },
  { path: 'example.com/old', versions: ['v3.0.0+incompatible'], pkg: 'old', hasGoMod: false },
  { path: 'corp.example/team-a/secret', versions: ['v0.1.0'], pkg: 'secret', hasGoMod: true, private: true },
];

/**
 * More module versions, for the checksum tests only (not in the standard set,
 * so no other test sees them): a pseudo-version, and files in nested and
 * mixed-case folders.
 */
const HASH_PLANS: Plan[] = [
  {
    path: 'example.com/pseudo',
    versions: ['v0.0.0-20240102030405-abcdefabcdef'],
    pkg: 'pseudo',
    hasGoMod: true,
    extraFiles: { 'internal/Deep/x.go': 'package deep\n', 'docs/README.md': '# pseudo\n' },
  },
];

/** The standard fixture set plus {@link HASH_PLANS}, written into `root` and described. */
export async function writeHashFixtureModules(root: string): Promise<FixtureSet> {
  const modules = await Promise.all([...PLANS, ...HASH_PLANS].map((plan) => writeModule(root, plan)));
  return { root, goproxy: pathToFileURL(root).href, modules };
}

/**
 * Writes the fixture set into `root` (a GOPROXY folder) and describes it.
 * Every module has one package at its root with `func Hello() string`
 * returning `"<pkg> <version>"`, so a test program can import and build it.
 */
export async function writeFixtureModules(root: string): Promise<FixtureSet> {
  const modules = await Promise.all(PLANS.map((plan) => writeModule(root, plan)));
  return { root, goproxy: pathToFileURL(root).href, modules };
}

/** The fixture module with this path; throws when there is none (a test bug). */
export function fixtureModule(set: FixtureSet, path: string): FixtureModule {
  const found = set.modules.find((m) => m.path === path);
  if (found === undefined) throw new RangeError(`no fixture module ${path}`);
  return found;
}

async function writeModule(root: string, plan: Plan): Promise<FixtureModule> {
  const escapedPath = escapePath(plan.path);
  const versions: FixtureVersion[] = [];
  for (const [i, version] of plan.versions.entries()) {
    const source = `package ${plan.pkg}\n\n// Hello names the module version.\nfunc Hello() string { return "${plan.pkg} ${version}" }\n`;
    const files: Record<string, string> = {
      [`${plan.pkg}.go`]: source,
      LICENSE: 'Fixture module; no rights.\n',
      ...plan.extraFiles,
    };
    const goMod = plan.hasGoMod ? `module ${plan.path}\n\ngo 1.19\n` : null;
    const time = new Date(BASE_TIME_MS + i * DAY_MS);
    const written = await writeModuleVersion(root, { path: plan.path, version, time, goMod, files });
    const zipFiles = { ...files, ...(goMod === null ? {} : { 'go.mod': goMod }) };
    const base = `${escapedPath}/@v/${escapeVersion(version)}`;
    versions.push({
      version,
      goMod: written.goMod,
      hasGoMod: goMod !== null,
      files: Object.keys(zipFiles).sort(),
      sum: hash1(Object.entries(zipFiles).map(([name, text]) => [`${plan.path}@${version}/${name}`, text])),
      goModSum: hash1([['go.mod', written.goMod]]),
      cacheFiles: [
        `${escapedPath}/@v/list`,
        ...['info', 'lock', 'mod', 'zip', 'ziphash'].map((e) => `${base}.${e}`),
      ].sort(),
    });
  }
  return {
    path: plan.path,
    escapedPath,
    versions,
    latest: plan.versions.at(-1)!,
    packageName: plan.pkg,
    private: plan.private ?? false,
  };
}

/**
 * golang.org/x/mod/sumdb/dirhash Hash1: SHA-256 over the lines
 * `<hex sha256(file)>  <name>\n` sorted by name, base64, prefixed `h1:`.
 */
export function hash1(files: [string, string][]): string {
  const summary = files
    .map(([name, content]) => [name, createHash('sha256').update(content).digest('hex')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hex]) => `${hex}  ${name}\n`)
    .join('');
  return `h1:${createHash('sha256').update(summary).digest('base64')}`;
}
