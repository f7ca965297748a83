/**
 * The go.sum hash of a module zip on disk (`<module> <version> h1:…`), after
 * the checks the go command makes before it accepts a downloaded zip
 * (cmd/go/internal/modfetch/fetch.go downloadZip and Download: archive/zip
 * opens it, every name has the `<module>@<version>/` prefix, dirhash.HashZip
 * reads every entry, x/mod/zip Unzip runs checkZip).
 *
 * The zip is never held in memory: entries are read one at a time, each
 * streamed through SHA-256. The hash is dirhash.HashZip's: Hash1 over every
 * entry by its full name, directories and the bare prefix entry included.
 */
import { ModgateError } from '../core/errors.ts';
import { canonicalVersion, checkPath, goQuote } from '../core/gomod/module.ts';
import { type HashedFile, hash1 } from './h1.ts';
import { CENTRAL_HEADER_BYTES, checkDirectoryEnd, checkNoExtraEntry } from './zip-end.ts';
import { hashEntry } from './zip-entry.ts';
import { badZip, ZipSource } from './zip-file.ts';
import { resolveZipLimits, type ZipLimits, ZipNameChecker } from './zip-names.ts';

export type { ZipLimits } from './zip-names.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The `h1:` hash of the module zip at `path` for `module@version`. Throws
 * ModgateError `upstream.bad_response` (one line naming `module@version` and
 * the problem) when the go command would refuse the zip, and
 * `request.invalid_path` when `module` or `version` is not a valid module
 * path or canonical version. The file is closed before this settles.
 */
export async function zipHash(
  path: string,
  module: string,
  version: string,
  limits?: ZipLimits,
): Promise<string> {
  checkModuleVersion(module, version);
  const what = `${module}@${version}`;
  const resolved = resolveZipLimits(limits);
  const zip = await ZipSource.open(path, what);
  try {
    if (zip.fileSize > resolved.maxZipFile) {
      throw badZip(what, `is ${zip.fileSize} bytes, over the limit of ${resolved.maxZipFile}`);
    }
    const end = await checkDirectoryEnd(zip, what);
    const names = new ZipNameChecker(module, version, resolved);
    const files: HashedFile[] = [];
    let cursor = end.offset;
    for (let entry = await zip.nextEntry(); entry !== null; entry = await zip.nextEntry()) {
      let name: string;
      try {
        name = UTF8.decode(entry.fileName as unknown as Uint8Array);
      } catch (err) {
        throw badZip(what, 'has a file name that is not UTF-8', err);
      }
      names.check(name, entry.uncompressedSize);
      files.push({ name, sha256: await hashEntry(zip, entry, name.endsWith('/'), what) });
      cursor +=
        CENTRAL_HEADER_BYTES + entry.fileNameLength + entry.extraFieldLength + entry.fileCommentLength;
    }
    if (!end.zip64) await checkNoExtraEntry(zip, what, cursor);
    return hash1(files);
  } finally {
    await zip.close();
  }
}

/**
 * x/mod/zip checkZip's first step: a valid module path and a canonical
 * version. (module.Check's match of a `/vN` suffix with the version is the
 * request parser's, which ran before any zip was fetched.)
 */
function checkModuleVersion(module: string, version: string): void {
  checkPath(module);
  if (canonicalVersion(version) !== version) {
    throw new ModgateError('request.invalid_path', `version ${goQuote(version)} is not canonical`);
  }
}
