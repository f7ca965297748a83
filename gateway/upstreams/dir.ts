import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ModgateError } from '../../core/errors.ts';
import { pickLatest } from '../../core/gomod/latest.ts';
import { escapeVersion } from '../../core/gomod/module.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import { streamBody } from './body-chunks.ts';
import {
  type BodyRequest,
  type CutShort,
  contentTypeOf,
  type MetadataRequest,
  type Trace,
  type Upstream,
} from './upstream.ts';

/**
 * Serves a local folder in the GOPROXY on-disk layout (what `GOPROXY=file://`
 * and Athens' disk storage use), read-only: `<root>/<escaped module>/@v/list`,
 * `<version>.info|.mod|.zip`. `@latest` is derived from `list` (newest
 * release, else newest pre-release), as the go command would. There is no
 * checksum database here: `/sumdb/...` answers 404, which tells go to ask the
 * checksum database directly (or not at all, with GOSUMDB=off / GONOSUMDB).
 */
export class DirUpstream implements Upstream {
  readonly kind = 'dir';
  readonly name: string;
  readonly #root: string;

  constructor(name: string, root: string) {
    this.name = name;
    this.#root = resolve(root);
  }

  async serve(
    _trace: Trace,
    request: GoproxyRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<CutShort> {
    if (request.kind === 'sumdb') {
      throw new ModgateError('request.not_found', `upstream ${this.name} serves no checksum database`);
    }
    const version = request.kind === 'latest' ? await this.#latest(request.escapedModule) : undefined;
    const file = this.#fileOf(request, version);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw notFound(request);
    res.writeHead(200, {
      'content-type': contentTypeOf(request),
      'content-length': String(info.size),
      'last-modified': info.mtime.toUTCString(),
    });
    if (req.method === 'HEAD') {
      res.end();
      return undefined;
    }
    await streamBody(createReadStream(file), res);
    return undefined;
  }

  async fetchText(_trace: Trace, request: MetadataRequest, _authorization?: string): Promise<string> {
    const version = request.kind === 'latest' ? await this.#latest(request.escapedModule) : undefined;
    return readFile(this.#fileOf(request, version), 'utf8').catch(() => {
      throw notFound(request);
    });
  }

  async fetchBody(_trace: Trace, request: BodyRequest): Promise<Readable> {
    const file = this.#fileOf(request, undefined);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw notFound(request);
    return createReadStream(file);
  }

  async close(): Promise<void> {}

  #fileOf(request: Exclude<GoproxyRequest, { kind: 'sumdb' }>, latestEscaped: string | undefined): string {
    const dir = join(this.#root, request.escapedModule, '@v');
    let name: string;
    if ('escapedVersion' in request) name = `${request.escapedVersion}.${request.kind}`;
    else name = request.kind === 'list' ? 'list' : `${latestEscaped}.info`;
    const file = join(dir, name);
    // The parser already rejected `..` and friends; this guards the invariant.
    if (!file.startsWith(this.#root + sep)) throw notFound(request);
    return file;
  }

  /** The escaped newest version in `list`, or throws not-found. */
  async #latest(escapedModule: string): Promise<string> {
    const list = await readFile(join(this.#root, escapedModule, '@v', 'list'), 'utf8').catch(() => '');
    const newest = pickLatest(list.split('\n').map((v) => v.trim()));
    if (newest === undefined)
      throw new ModgateError('request.not_found', `no versions of ${escapedModule} in ${this.name}`);
    return escapeVersion(newest);
  }
}

function notFound(request: Exclude<GoproxyRequest, { kind: 'sumdb' }>): ModgateError {
  const what = 'version' in request ? `${request.module}@${request.version}` : request.module;
  return new ModgateError('request.not_found', `${what} not found`);
}
