/**
 * Forwarding floor (b): the undici package's `Pool.stream` (not `fetch`),
 * which writes the upstream body straight into the client response, over a
 * pool of keep-alive connections.
 */
import type { ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { fail, listen, requestHeaders, responseHeaders, UPSTREAM_POOL, upstream } from './common.ts';

const pool = new Pool(upstream, { connections: UPSTREAM_POOL });

listen((req, res) => {
  pool.stream(
    { path: req.url ?? '/', method: 'GET', headers: requestHeaders(req.headers), opaque: res },
    ({ statusCode, headers, opaque }) => {
      const out = opaque as ServerResponse;
      out.writeHead(statusCode, responseHeaders(headers));
      return out;
    },
    (err) => {
      if (err !== null) fail(res, err);
    },
  );
});
