import { Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createProxyServer } from 'http-proxy-3';
import type { UpstreamSettings } from '../config/settings.ts';
import type { RequestContext } from '../context.ts';
import { type GoproxyRequest, upstreamPath } from '../goproxy-path.ts';
import { type Attempt, Attempts } from './attempts.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.ts';
import { countBytes, type Upstream } from './upstream.ts';
import { errorForSocket, errorForStatus, timeoutError } from './upstream-errors.ts';

type AthensSettings = Extract<UpstreamSettings, { kind: 'athens' }>;

/**
 * Forwards to an Athens proxy (plain GOPROXY protocol at its root or under a
 * path prefix) with http-proxy-3 over a keep-alive agent. Bodies stream; the
 * client's headers pass only through an allowlist; Athens' one static
 * basic-auth credential, if configured, is injected. Error statuses become
 * modgate refusals the go command prints (see upstream-errors.ts).
 */
export class AthensUpstream implements Upstream {
  readonly kind = 'athens';
  readonly name: string;
  readonly #settings: AthensSettings;
  readonly #base: string;
  readonly #credential: string | undefined;
  readonly #agent: HttpAgent;
  readonly #proxy = createProxyServer({
    xfwd: false,
    changeOrigin: true,
    ignorePath: true,
    selfHandleResponse: true,
  });
  readonly #attempts = new Attempts();

  constructor(settings: AthensSettings) {
    this.name = settings.name;
    this.#settings = settings;
    this.#base = `${settings.url.origin}${settings.url.pathname.replace(/\/+$/, '')}`;
    const { basicAuth } = settings;
    this.#credential = basicAuth
      ? `Basic ${Buffer.from(`${basicAuth.username}:${basicAuth.password}`).toString('base64')}`
      : undefined;
    const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets, scheduling: 'lifo' as const };
    this.#agent =
      settings.url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#proxy.on('proxyReq', (proxyReq, req) => this.#attempts.attach(req, proxyReq));
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
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const attempt = this.#attempts.start(
        req,
        res,
        { ctx, request, resolve, reject },
        this.#settings.timeoutMs,
        () => timeoutError(this.name, this.#settings.timeoutMs),
      );
      // http-proxy copies req.headers into the upstream request; replace them with
      // the allowlisted set first, so no client header (Authorization, Cookie, ...)
      // can reach the upstream whatever the socket timing.
      req.headers = upstreamRequestHeaders(req.headers, this.#credential, ctx.id);
      this.#proxy.web(req, res, { target: this.#base + wirePath(request), agent: this.#agent }, (err) =>
        this.#attempts.fail(
          attempt,
          errorForSocket(this.name, err, attempt.timedOut, this.#settings.timeoutMs),
        ),
      );
    });
  }

  async close(): Promise<void> {
    this.#proxy.close();
    this.#agent.destroy();
  }

  #respond(attempt: Attempt, proxyRes: IncomingMessage, res: ServerResponse): void {
    this.#attempts.responded(attempt);
    const status = proxyRes.statusCode ?? 502;
    if (!((status >= 200 && status < 300) || status === 304)) {
      proxyRes.resume();
      this.#attempts.fail(attempt, errorForStatus(this.name, attempt.request, status));
      return;
    }
    res.writeHead(status, clientResponseHeaders(proxyRes.headers));
    proxyRes.on('data', (chunk: Buffer) => countBytes(attempt.ctx, chunk));
    proxyRes.pipe(res);
    proxyRes.on('end', () => this.#attempts.succeed(attempt));
    proxyRes.on('error', (err) =>
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
