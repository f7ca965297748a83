/**
 * Writes module versions into a GOPROXY folder: the on-disk layout that
 * `GOPROXY=file://<root>` serves and that the go command's own download cache
 * uses (https://go.dev/ref/mod#goproxy-protocol):
 *
 *   <root>/<escapePath(path)>/@v/list
 *   <root>/<escapePath(path)>/@v/<escapeVersion(version)>.info|.mod|.zip
 *
 * Used by `npm start` to create sample modules and by the tests' fixtures and
 * upstream emulators. Every file is written to a temporary name and renamed,
 * so a concurrent reader never sees a half-written zip.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { checkFilePath, escapePath, escapeVersion } from '../../core/gomod/module.ts';
import { sort as sortVersions } from '../../core/gomod/semver.ts';

/** Largest module zip the go command accepts (bytes; x/mod/zip MaxZipFile, 500 MiB). */
export const MAX_MODULE_ZIP_BYTES = 500 * 1024 * 1024;

/** Size of one generated chunk of {@link writeLargeZip} data (bytes). */
const LARGE_ZIP_CHUNK_BYTES = 1024 * 1024;

/** Number of data files {@link writeLargeZip} spreads its payload over. */
const LARGE_ZIP_FILES = 4;

/** Room left in {@link writeLargeZip} for zip headers and the small files (bytes). */
const LARGE_ZIP_OVERHEAD_BYTES = 4096;

/** One module version to write; see {@link writeModuleVersion}. */
export interface ModuleVersionSpec {
  /** Module path as users write it (uppercase allowed), e.g. `github.com/Acme/Tool`. */
  path: string;
  /** Canonical semantic version, e.g. `v1.2.0` or `v3.0.0+incompatible`. */
  version: string;
  /** Commit time recorded in the `.info` file and the zip entries; default: now. */
  time?: Date;
  /**
   * The go.mod text. `undefined`: `files['go.mod']` if present, else a minimal
   * go.mod. `null`: the version has no go.mod (legacy or `+incompatible`); the
   * `.mod` file is then the go command's synthesized `module <path>\n`.
   */
  goMod?: string | null;
  /** Files of the module, by slash-separated path relative to the module root. */
  files: Record<string, string | Buffer>;
}

/** Where a module version was written. */
export interface WrittenModuleVersion {
  infoPath: string;
  modPath: string;
  zipPath: string;
  /** Exact content of the `.mod` file (and of the zip's go.mod when it has one). */
  goMod: string;
  /** Size of the `.zip` file (bytes). */
  zipBytes: number;
}

/** Directory holding `list` and the version files of `modulePath` under `root`. */
export function moduleVersionDir(root: string, modulePath: string): string {
  return join(root, escapePath(modulePath), '@v');
}

/**
 * Writes the `.info`, `.mod` and `.zip` of one module version and adds the
 * version to the module's `list`. The zip is a valid module zip
 * (x/mod/zip): every entry under `<path>@<version>/`, go.mod identical to the
 * `.mod` file, and no go.mod at all for `+incompatible` versions.
 * Throws TypeError for an inconsistent go.mod and ModgateError
 * `request.invalid_path` for an invalid module path, version or file name.
 */
export async function writeModuleVersion(
  root: string,
  spec: ModuleVersionSpec,
): Promise<WrittenModuleVersion> {
  const goMod = resolveGoMod(spec);
  const time = spec.time ?? new Date();
  const entries = Object.entries(spec.files).filter(([name]) => name !== 'go.mod');
  for (const [name] of entries) checkFilePath(name);
  return writeVersion(root, spec.path, spec.version, time, goMod, (zip, prefix, mtime) => {
    if (goMod.inZip) zip.addBuffer(Buffer.from(goMod.text), `${prefix}go.mod`, { mtime });
    for (const [name, content] of entries) {
      zip.addBuffer(typeof content === 'string' ? Buffer.from(content) : content, prefix + name, { mtime });
    }
  });
}

/**
 * Writes a module version whose zip is about `sizeBytes` long (at most, within
 * a few KiB): a go.mod, a Go file, and incompressible data in a few files,
 * generated and streamed in chunks so memory stays flat. For streaming tests
 * and benchmarks (e.g. 200 MB).
 */
export async function writeLargeZip(
  root: string,
  path: string,
  version: string,
  sizeBytes: number,
): Promise<WrittenModuleVersion> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= LARGE_ZIP_OVERHEAD_BYTES) {
    throw new RangeError(`writeLargeZip: sizeBytes must be an integer above ${LARGE_ZIP_OVERHEAD_BYTES}`);
  }
  if (sizeBytes > MAX_MODULE_ZIP_BYTES) {
    throw new RangeError(`writeLargeZip: the go command rejects zips above ${MAX_MODULE_ZIP_BYTES} bytes`);
  }
  const goMod = { text: `module ${path}\n\ngo 1.19\n`, inZip: true };
  const payload = sizeBytes - LARGE_ZIP_OVERHEAD_BYTES;
  const perFile = Math.floor(payload / LARGE_ZIP_FILES);
  return writeVersion(root, path, version, new Date(), goMod, (zip, prefix, mtime) => {
    zip.addBuffer(Buffer.from(goMod.text), `${prefix}go.mod`, { mtime });
    zip.addBuffer(Buffer.from('package large\n'), `${prefix}large.go`, { mtime });
    for (let i = 0; i < LARGE_ZIP_FILES; i++) {
      const size = i === LARGE_ZIP_FILES - 1 ? payload - perFile * i : perFile;
      zip.addReadStream(randomStream(size), `${prefix}data/blob-${i}.bin`, { mtime, size, compress: false });
    }
  });
}

type AddEntries = (zip: ZipFile, prefix: string, mtime: Date) => void;

async function writeVersion(
  root: string,
  path: string,
  version: string,
  time: Date,
  goMod: { text: string; inZip: boolean },
  addEntries: AddEntries,
): Promise<WrittenModuleVersion> {
  const dir = moduleVersionDir(root, path);
  await mkdir(dir, { recursive: true });
  const base = join(dir, escapeVersion(version));
  const zipPath = `${base}.zip`;
  const modPath = `${base}.mod`;
  const infoPath = `${base}.info`;

  const zip = new ZipFile();
  addEntries(zip, `${path}@${version}/`, time);
  zip.end();
  await atomically(zipPath, (tmp) => pipeline(zip.outputStream, createWriteStream(tmp)));
  await atomically(modPath, (tmp) => writeFile(tmp, goMod.text));
  const info = `${JSON.stringify({ Version: version, Time: rfc3339(time) })}\n`;
  await atomically(infoPath, (tmp) => writeFile(tmp, info));
  await addToList(join(dir, 'list'), version);
  const { size } = await stat(zipPath);
  return { infoPath, modPath, zipPath, goMod: goMod.text, zipBytes: size };
}

function resolveGoMod(spec: ModuleVersionSpec): { text: string; inZip: boolean } {
  const fromFiles = spec.files['go.mod'];
  const given =
    spec.goMod !== undefined ? spec.goMod : fromFiles === undefined ? undefined : String(fromFiles);
  if (spec.goMod !== undefined && fromFiles !== undefined && String(fromFiles) !== spec.goMod) {
    throw new TypeError(`${spec.path}@${spec.version}: goMod and files['go.mod'] differ`);
  }
  if (spec.version.endsWith('+incompatible')) {
    if (given !== undefined && given !== null) {
      throw new TypeError(`${spec.path}@${spec.version}: a +incompatible version has no go.mod`);
    }
    return { text: `module ${spec.path}\n`, inZip: false };
  }
  if (given === null) return { text: `module ${spec.path}\n`, inZip: false };
  return { text: given ?? `module ${spec.path}\n\ngo 1.19\n`, inZip: true };
}

/** Go's RFC 3339 form without fractional seconds, e.g. `2024-01-02T03:04:05Z`. */
function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function atomically(target: string, write: (tmp: string) => Promise<unknown>): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await write(tmp);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Per-list queue so concurrent writers in this process never lose a version. */
const listLocks = new Map<string, Promise<void>>();

function addToList(listPath: string, version: string): Promise<void> {
  const previous = listLocks.get(listPath) ?? Promise.resolve();
  const next = previous.then(async () => {
    const current = await readFile(listPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const versions = new Set(current.split('\n').filter((v) => v.trim() !== ''));
    versions.add(version);
    const text = sortVersions([...versions]).join('\n');
    await atomically(listPath, (tmp) => writeFile(tmp, `${text}\n`));
  });
  const settled = next.catch(() => undefined);
  listLocks.set(listPath, settled);
  void settled.then(() => {
    if (listLocks.get(listPath) === settled) listLocks.delete(listPath);
  });
  return next;
}

function randomStream(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, LARGE_ZIP_CHUNK_BYTES);
      left -= n;
      this.push(randomBytes(n));
    },
  });
}
