import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, Pool } from 'undici';
import { type GoproxyRequest, upstreamPath } from '../protocol/goproxy-path.ts';
import { BodyPipe } from './body-pipe.ts';
import type { RemoteUpstreamSettings } from './config.ts';
import { fetchText } from './fetch-text.ts';
import { Forward, type ForwardRoute } from './forward.ts';
import { upstreamRequestHeaders } from './forward-headers.ts';
import type { BodyRequest, CutShort, MetadataRequest, Trace, Upstream } from './upstream.ts';

/** Asks Artifactory to serve a download itself instead of redirecting to cloud storage (JFrog: "Direct Cloud Storage Download"). */
const NO_REDIRECT_HEADER = 'x-jfrog-download-redirect-to';

/**
 * Forwards to a remote GOPROXY — Athens (at its root or under a path prefix)
 * or an Artifactory Go repository (`<base>/api/go/<repo-key>`) — over an
 * undici keep-alive pool of `max_sockets` connections to the upstream's
 * origin (see forward.ts). Bodies stream; the client's headers pass only
 * through an allowlist; the upstream credential the pipeline chose is
 * injected. Error statuses and transport failures become modgate refusals the
 * go command prints (see upstream-errors.ts).
 */
export class RemoteUpstream implements Upstream {
  readonly kind: 'athens' | 'artifactory';
  readonly name: string;
  readonly #settings: RemoteUpstreamSettings;
  /** The base URL's path, without a trailing slash: GOPROXY paths are appended to it. */
  readonly #basePath: string;
  readonly #route: ForwardRoute;
  readonly #pool: Pool;
  /** Redirect targets on other hosts (storage, CDN): no extra CA, no client certificate, no credential. */
  readonly #foreign: Agent;

  constructor(settings: RemoteUpstreamSettings) {
    this.name = settings.name;
    this.kind = settings.kind;
    this.#settings = settings;
    this.#basePath = settings.url.pathname.replace(/\/+$/, '');
    const timeouts = { headersTimeout: settings.timeoutMs, bodyTimeout: settings.idleTimeoutMs };
    const tls = {
      ...(settings.ca === undefined ? {} : { ca: [...rootCertificates, settings.ca] }),
      ...settings.clientCert,
    };
    this.#pool = new Pool(settings.url.origin, {
      ...timeouts,
      connections: settings.maxSockets,
      connect: { timeout: settings.connectTimeoutMs, ...(settings.url.protocol === 'https:' ? tls : {}) },
    });
    this.#foreign = new Agent({
      ...timeouts,
      connections: settings.maxSockets,
      connect: { timeout: settings.connectTimeoutMs },
    });
    this.#route = {
      upstream: settings.name,
      origin: settings.url.origin,
      pool: this.#pool,
      foreign: this.#foreign,
      timeoutMs: settings.timeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
    };
  }

  serve(
    trace: Trace,
    request: GoproxyRequest,
    req: IncomingMessage,
    res: ServerResponse,
    authorization: string | undefined,
  ): Promise<CutShort> {
    // The client went away while modgate authenticated and authorized: forwarding
    // now would tie up an upstream socket for a response nobody reads.
    if (res.destroyed) return Promise.resolve(undefined);
    return new Forward(this.#route, request, res, {
      origin: this.#settings.url.origin,
      path: this.#basePath + wirePath(request),
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      headers: this.#headers(req.headers, trace, authorization),
    }).run();
  }

  fetchText(trace: Trace, request: MetadataRequest, authorization: string | undefined): Promise<string> {
    return fetchText(this.#basePath + wirePath(request), request, {
      upstream: this.name,
      pool: this.#pool,
      headers: this.#headers({}, trace, authorization),
      limits: this.#route,
    });
  }

  /** The body through the same forwarding as `serve` (redirects followed, credential only to the upstream's origin). */
  fetchBody(trace: Trace, request: BodyRequest, authorization: string | undefined): Promise<Readable> {
    const pipe = new BodyPipe(this.name);
    const forwarded = new Forward(this.#route, request, pipe, {
      origin: this.#settings.url.origin,
      path: this.#basePath + wirePath(request),
      method: 'GET',
      headers: this.#headers({}, trace, authorization),
    }).run();
    // Rejects while nothing came (a refusal); once the body started, failures end the body itself.
    return Promise.race([pipe.started, forwarded.then(() => pipe.body)]);
  }

  /** Ends every upstream connection, aborting what is still in flight. */
  async close(): Promise<void> {
    await Promise.all([this.#pool.destroy(), this.#foreign.destroy()]);
  }

  /** Allowlisted client headers, the upstream credential, and Artifactory's no-redirect switch when configured. */
  #headers(
    client: IncomingHttpHeaders,
    trace: Trace,
    authorization: string | undefined,
  ): IncomingHttpHeaders {
    const headers = upstreamRequestHeaders(client, authorization, trace.id);
    if (this.kind === 'artifactory' && this.#settings.redirects === 'disable')
      headers[NO_REDIRECT_HEADER] = 'None';
    return headers;
  }
}

/** The path as the go command puts it on the wire: `!` is percent-encoded in module URLs, raw in sumdb URLs. */
function wirePath(request: GoproxyRequest): string {
  const path = upstreamPath(request);
  return request.kind === 'sumdb' ? path : path.replaceAll('!', '%21');
}
