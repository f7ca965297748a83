/**
 * Building the gateway either finishes or closes what it opened: a
 * directory that cannot be loaded (a missing users file) after the state
 * store, upstreams and policy watcher were opened leaves no connection to
 * Redis behind, and startGateway rejects with the directory's error.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsFromYaml } from '../gateway/config/load.ts';
import { startGateway } from '../gateway/server.ts';
import { type RedisServer, startRedis, waitFor } from '../harness/redis.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

/** Clients connected to Redis now, redis-cli's own connection left out. */
async function clients(): Promise<number> {
  const list = await redis.cli('CLIENT', 'LIST');
  return list.split('\n').filter((l) => l.trim() !== '' && !/ cmd=client\|list /.test(l)).length;
}

describe('startGateway when a step fails', () => {
  it('a missing users file: rejected with its reason, and the Redis connections opened before it are closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modgate-build-'));
    await writeFile(join(dir, 'policy.yaml'), 'default: allow\n');
    const settings = settingsFromYaml(
      join(dir, 'gateway.yaml'),
      `listen:
  host: 127.0.0.1
  port: 0
tls:
  behind_tls_terminator: true
directory:
  file:
    path: missing-users.yaml
upstreams:
  local:
    kind: dir
    path: goproxy
default_upstream: local
policy:
  path: policy.yaml
state:
  kind: redis
  url: redis://127.0.0.1:${redis.port}
log:
  level: error
`,
    );
    expect(await clients()).toBe(0);
    await expect(startGateway(settings)).rejects.toThrow(/missing-users\.yaml/);
    // The store had connected (commands and pub/sub); nothing is left of it.
    expect(
      await waitFor('the clients to go', async () => ((await clients()) === 0 ? true : undefined), 5_000),
    ).toBe(true);
  });
});
