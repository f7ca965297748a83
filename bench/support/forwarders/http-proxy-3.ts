/**
 * Forwarding floor (a): http-proxy-3 with the options modgate's
 * gateway/upstreams/remote.ts uses (no X-Forwarded-*, Host of the target,
 * the target URL taken whole, the response handled here and piped), over a
 * keep-alive agent like modgate's.
 */
import { Agent } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { fail, listen, requestHeaders, responseHeaders, UPSTREAM_POOL, upstream } from './common.ts';

const agent = new Agent({ keepAlive: true, maxSockets: UPSTREAM_POOL, scheduling: 'lifo' });
const proxy = createProxyServer({
  xfwd: false,
  changeOrigin: true,
  ignorePath: true,
  selfHandleResponse: true,
});
proxy.on('proxyRes', (proxyRes, _req, res) => {
  res.writeHead(proxyRes.statusCode ?? 502, responseHeaders(proxyRes.headers));
  proxyRes.pipe(res);
});

listen((req, res) => {
  req.headers = requestHeaders(req.headers);
  proxy.web(req, res, { target: upstream + req.url, agent }, (err) => fail(res, err));
});
