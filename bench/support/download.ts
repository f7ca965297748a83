import { request } from 'node:https';

/** GETs `path` of `base` over https with Basic `user`, discarding the body; resolves its size, rejects on a status but 200. */
export function download(
  base: string,
  path: string,
  ca: string,
  user: readonly [string, string],
): Promise<number> {
  const url = new URL(base);
  const auth = `Basic ${Buffer.from(user.join(':')).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, ca, headers: { authorization: auth } },
      (res) => {
        let bytes = 0;
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
        res.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
