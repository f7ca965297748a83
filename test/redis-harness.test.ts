/** The Redis test harness itself: start with a password, read back every key, stop, kill and restart. */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../harness/redis.ts';

const PASSWORD = 'harness-pw';

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('harness/redis.ts', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: PASSWORD });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('serves on loopback with the password and without persistence', async () => {
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await server.cli('PING')).toBe('PONG');
    expect(await server.cli('CONFIG', 'GET', 'save')).toBe('save');
    expect(await server.cli('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno');
    expect(await server.cli('CONFIG', 'GET', 'bind')).toBe('bind\n127.0.0.1');
  });

  it('scanAll returns every key with its value, whatever its type', async () => {
    await server.cli('SET', 'k:string', 'plain value');
    await server.cli('ZADD', 'k:zset', '5', 'member');
    await server.cli('HSET', 'k:hash', 'field', 'hv');
    const all = await server.scanAll();
    expect(all.get('k:string')).toBe('plain value');
    expect(all.get('k:zset')).toBe('member 5');
    expect(all.get('k:hash')).toBe('field hv');
  });

  it('kill and stop take the server away; restart brings it back empty on the same port', async () => {
    await server.kill();
    expect(server.running).toBe(false);
    expect(await refuses(server.port)).toBe(true);
    await server.restart();
    expect(server.running).toBe(true);
    expect(await server.cli('PING')).toBe('PONG');
    expect((await server.scanAll()).size).toBe(0);
    await server.stop();
    expect(await refuses(server.port)).toBe(true);
    await server.restart();
    expect(await server.cli('PING')).toBe('PONG');
  });

  it('dispose deletes the temp folder', async () => {
    const other = await startRedis();
    const dir = (await other.cli('CONFIG', 'GET', 'dir')).split('\n')[1]!;
    expect(existsSync(dir)).toBe(true);
    await other.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(await refuses(other.port)).toBe(true);
  });
});
