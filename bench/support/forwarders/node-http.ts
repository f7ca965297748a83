/** Forwarding floor (c): Node's own `http.request` over a keep-alive agent, the response piped. */
import { Agent, request } from 'node:http';
import { fail, listen, requestHeaders, responseHeaders, UPSTREAM_POOL, upstream } from './common.ts';

const agent = new Agent({ keepAlive: true, maxSockets: UPSTREAM_POOL, scheduling: 'lifo' });

listen((req, res) => {
  const upstreamReq = request(
    upstream + req.url,
    { agent, headers: requestHeaders(req.headers) },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, responseHeaders(upRes.headers));
      upRes.pipe(res);
    },
  );
  upstreamReq.on('error', (err) => fail(res, err));
  upstreamReq.end();
});
