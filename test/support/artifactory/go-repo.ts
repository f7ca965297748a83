/**
 * The GOPROXY protocol (https://go.dev/ref/mod#goproxy-protocol) of one
 * Artifactory Go repository, `/artifactory/api/go/<repo-key>/<module>/@v/list`,
 * `/@v/<version>.info|.mod|.zip` and `/@latest` (JFrog Artifactory, "Go
 * Modules": clients use `GOPROXY=https://<server>/artifactory/api/go/<repo-key>`),
 * read from a GOPROXY folder. Called after authorization.
 */

import { join } from 'node:path';
import { pickLatest } from '../../../core/gomod/latest.ts';
import { escapeVersion, unescapePath, unescapeVersion } from '../../../core/gomod/module.ts';
import { isFile, readList } from '../../../harness/goproxy-read.ts';
import { attempt, type Exchange, reply, replyError, replyFile } from './http.ts';
import type { GoRepository } from './types.ts';

/** Path prefix of the Go API; the repository key follows. */
export const GO_API_PREFIX = '/artifactory/api/go/';

/**
 * The one message of every Go 404, the documented example's, so that a
 * "hide existence" 404 cannot be told from a missing file.
 */
export const NOT_FOUND_MESSAGE = 'File not found.';

/** Request header that overrides download redirection (`None`: serve through Artifactory). */
export const REDIRECT_HEADER = 'x-jfrog-download-redirect-to';

const TEXT = 'text/plain; charset=utf-8';
const TYPES = { info: 'application/json', mod: TEXT, zip: 'application/zip' } as const;

/**
 * Makes the signed storage URL of a file of `repo` (a path relative to its
 * root, escaped as on disk).
 */
export type StorageUrl = (repo: GoRepository, file: string) => string;

/** Serves `sub` (the decoded path after the repository key, starting with `/`). */
export async function serveGo(
  x: Exchange,
  repo: GoRepository,
  sub: string,
  storageUrl: StorageUrl,
): Promise<void> {
  if (repo.redirectTo !== undefined) {
    const target = (x.req.url ?? '').slice(GO_API_PREFIX.length + repo.key.length);
    return reply(x, repo.redirectTo.status, { location: repo.redirectTo.origin + target });
  }
  const route = /^\/(.+)\/(@latest|@v\/list|@v\/([^/]+)\.(info|mod|zip))$/.exec(sub);
  if (route === null) return replyError(x, 404, NOT_FOUND_MESSAGE);
  const module = route[1]!;
  if (attempt(() => unescapePath(module)) === undefined)
    return replyError(x, 400, `Invalid module path: ${module}`);
  const versions = await readList(join(repo.root, module, '@v', 'list'));
  if (versions === undefined) return replyError(x, 404, NOT_FOUND_MESSAGE);
  if (route[2] === '@v/list')
    return reply(x, 200, { 'content-type': TEXT }, versions.map((v) => `${v}\n`).join(''));
  if (route[2] === '@latest') {
    const latest = pickLatest(versions);
    const file = latest === undefined ? '' : join(repo.root, module, '@v', `${escapeVersion(latest)}.info`);
    if (latest === undefined || !(await replyFile(x, file, TYPES.info)))
      return replyError(x, 404, NOT_FOUND_MESSAGE);
    return;
  }
  const [escapedVersion, ext] = [route[3]!, route[4] as keyof typeof TYPES];
  if (attempt(() => unescapeVersion(escapedVersion)) === undefined) {
    return replyError(x, 400, `Invalid version: ${escapedVersion}`);
  }
  const relative = `${module}/@v/${escapedVersion}.${ext}`;
  const file = join(repo.root, relative);
  if (ext === 'zip' && redirects(x, repo) && (await isFile(file))) {
    return reply(x, 302, { location: storageUrl(repo, relative) });
  }
  if (!(await replyFile(x, file, TYPES[ext]))) return replyError(x, 404, NOT_FOUND_MESSAGE);
}

/** Redirect when the repository is configured to, unless the client sent `X-JFrog-Download-Redirect-To: None`. */
function redirects(x: Exchange, repo: GoRepository): boolean {
  const header = x.req.headers[REDIRECT_HEADER];
  return repo.redirectDownloads === true && String(header ?? '').toLowerCase() !== 'none';
}
