import {
  Agent as HttpAgent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import type { RemoteUpstreamSettings } from '../config/settings.ts';
import type { RequestContext } from '../context.ts';
import { type GoproxyRequest, upstreamPath } from '../goproxy-path.ts';
import { type Attempt, Attempts } from './attempts.ts';
import { fetchText } from './fetch-text.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.ts';
import { followRedirects, isRedirect } from './redirects.ts';
import { countBytes, type MetadataRequest, type Upstream } from './upstream.ts';
import { errorForSocket, errorForStatus, timeoutError } from './upstream-errors.ts';

/**
 * Forwards to a remote GOPROXY — Athens (at its root or under a path prefix)
 * or an Artifactory Go repository (`<base>/api/go/<repo-key>`) — with
 * http-proxy-3 over a keep-alive agent. Bodies stream; the
 * client's headers pass only through an allowlist; Athens' one static
 * `authorization` (the upstream credential the pipeline chose) is injected. Error statuses become
 * modgate refusals the go command prints (see upstream-errors.ts).
 */
/** Asks Artifactory to serve a download itself instead of redirecting to cloud storage (JFrog: "Direct Cloud Storage Download"). */
const NO_REDIRECT_HEADER = 'x-jfrog-download-redirect-to';

export class RemoteUpstream implements Upstream {
  readonly kind: 'athens' | 'artifactory';
  readonly name: string;
  readonly #settings: RemoteUpstreamSettings;
  readonly #base: string;
  readonly #agent: HttpAgent;
  /** Agents for redirect targets on other hosts (storage, CDN), which never get the credential. */
  readonly #foreignAgents: { 'http:': HttpAgent; 'https:': HttpsAgent };
  readonly #proxy = createProxyServer({
    xfwd: false,
    changeOrigin: true,
    ignorePath: true,
    selfHandleResponse: true,
  });
  readonly #attempts = new Attempts();

  constructor(settings: RemoteUpstreamSettings) {
    this.name = settings.name;
    this.kind = settings.kind;
    this.#settings = settings;
    this.#base = `${settings.url.origin}${settings.url.pathname.replace(/\/+$/, '')}`;
    const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets, scheduling: 'lifo' as const };
    this.#agent =
      settings.url.protocol === 'https:'
        ? new HttpsAgent({
            ...agentOptions,
            ca: settings.ca === undefined ? undefined : [...rootCertificates, settings.ca],
            ...settings.clientCert,
          })
        : new HttpAgent(agentOptions);
    this.#foreignAgents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) };
    this.#proxy.on('proxyReq', (proxyReq, req) =>
      this.#attempts.attach(req, proxyReq, settings.connectTimeoutMs, settings.name),
    );
    this.#proxy.on('proxyRes', (proxyRes, req, res) => {
      const attempt = this.#attempts.get(req);
      if (attempt) this.#respond(attempt, proxyRes, res);
      else proxyRes.destroy();
    });
  }

  serve(
    ctx: RequestContext,
    request: GoproxyRequest,
    req: IncomingMessage,
    res: ServerResponse,
    authorization: string | undefined,
  ): Promise<void> {
    // The client went away while modgate authenticated and authorized: forwarding
    // now would tie up an upstream socket for a response nobody reads.
    if (res.destroyed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const attempt = this.#attempts.start(
        req,
        res,
        { ctx, request, resolve, reject },
        this.#settings.timeoutMs,
        () => timeoutError(this.name, this.#settings.timeoutMs),
        this.#settings.idleTimeoutMs,
      );
      // http-proxy copies req.headers into the upstream request; replace them with
      // the allowlisted set first, so no client header (Authorization, Cookie, ...)
      // can reach the upstream whatever the socket timing.
      req.headers = this.#headers(req.headers, ctx, authorization);
      this.#proxy.web(req, res, { target: this.#base + wirePath(request), agent: this.#agent }, (err) =>
        this.#attempts.fail(
          attempt,
          errorForSocket(this.name, err, attempt.timedOut, this.#settings.timeoutMs),
        ),
      );
    });
  }

  fetchText(
    ctx: RequestContext,
    request: MetadataRequest,
    authorization: string | undefined,
  ): Promise<string> {
    return fetchText(this.#base + wirePath(request), request, {
      upstream: this.name,
      agent: this.#agent,
      headers: this.#headers({}, ctx, authorization),
      timeoutMs: this.#settings.timeoutMs,
    });
  }

  async close(): Promise<void> {
    this.#proxy.close();
    this.#agent.destroy();
    this.#foreignAgents['http:'].destroy();
    this.#foreignAgents['https:'].destroy();
  }

  /** Allowlisted client headers, the upstream credential, and Artifactory's no-redirect switch when configured. */
  #headers(
    client: IncomingHttpHeaders,
    ctx: RequestContext,
    authorization: string | undefined,
  ): IncomingHttpHeaders {
    const headers = upstreamRequestHeaders(client, authorization, ctx.id);
    if (this.kind === 'artifactory' && this.#settings.redirects === 'disable')
      headers[NO_REDIRECT_HEADER] = 'None';
    return headers;
  }

  #respond(attempt: Attempt, proxyRes: IncomingMessage, res: ServerResponse): void {
    this.#attempts.responded(attempt);
    if (!isRedirect(proxyRes.statusCode ?? 0)) {
      this.#stream(attempt, proxyRes, res);
      return;
    }
    followRedirects(proxyRes, this.#base + wirePath(attempt.request), {
      upstream: this.name,
      origin: this.#settings.url.origin,
      headers: res.req.headers,
      agent: this.#agent,
      foreignAgents: this.#foreignAgents,
      timeoutMs: this.#settings.timeoutMs,
    }).then(
      (final) => this.#stream(attempt, final, res),
      (err: unknown) =>
        this.#attempts.fail(attempt, errorForSocket(this.name, err, false, this.#settings.timeoutMs)),
    );
  }

  #stream(attempt: Attempt, upstreamRes: IncomingMessage, res: ServerResponse): void {
    const status = upstreamRes.statusCode ?? 502;
    if (!((status >= 200 && status < 300) || status === 304)) {
      upstreamRes.resume();
      this.#attempts.fail(attempt, errorForStatus(this.name, attempt.request, status));
      return;
    }
    res.writeHead(status, clientResponseHeaders(upstreamRes.headers));
    upstreamRes.on('data', (chunk: Buffer) => countBytes(attempt.ctx, chunk));
    upstreamRes.pipe(res);
    upstreamRes.on('end', () => this.#attempts.succeed(attempt));
    upstreamRes.on('error', (err) =>
      this.#attempts.fail(
        attempt,
        errorForSocket(this.name, err, attempt.timedOut, this.#settings.timeoutMs),
      ),
    );
  }
}

/** The path as the go command puts it on the wire: `!` is percent-encoded in module URLs, raw in sumdb URLs. */
function wirePath(request: GoproxyRequest): string {
  const path = upstreamPath(request);
  return request.kind === 'sumdb' ? path : path.replaceAll('!', '%21');
}
