/**
 * `min_age` counts from modgate's first sight of a version, not only from the
 * `.info` Time (integrity.first_seen_cooldown): a fixture version committed
 * in 2024 passes a 72h cooldown on its Time alone, but is held back when
 * modgate sees it for the first time now, and passes once its recorded
 * first sight is older than the cooldown.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModuleRecords } from '../gateway/integrity/module-records.ts';
import { FileRecords } from '../gateway/state/durable.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { type Stack, startStack } from './support/stack.ts';

const POLICY = `default: allow
rules:
  - name: cooldown
    subjects: ["*"]
    modules: ["example.com"]
    action: deny
    min_age: 72h
    reason: versions younger than 72h are held back
`;
const basic: [string, string] = [USERS.alice.name, USERS.alice.password];

let stack: Stack;
let config: Record<string, unknown>;
let recordsDir: string;

function integrity(cacheDir: string, firstSeenCooldown: boolean) {
  // Every module pinned: no checksum database is asked.
  return {
    mode: 'enforce',
    pin: ['*'],
    cache: { dir: cacheDir },
    records_dir: recordsDir,
    first_seen_cooldown: firstSeenCooldown,
  };
}

beforeAll(async () => {
  stack = await startStack({
    directory: 'file',
    upstream: 'dir',
    policy: POLICY,
    gatewayConfig: async (base, { dir }) => {
      recordsDir = join(dir, 'records');
      config = { ...base, integrity: integrity(join(dir, 'verified'), true) };
      return config;
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

async function get(gateway: TestGateway, path: string) {
  return httpsGet(gateway.url, path, { ca: stack.pki.caPem, basic });
}

describe('min_age from the first sight', () => {
  it('holds back a version first seen now although its .info Time is old, in .info and in the list', async () => {
    const info = await get(stack.gateway, '/example.com/hello/@v/v1.0.0.info');
    expect(info.status).toBe(403);
    expect(info.text).toBe(
      'modgate: example.com/hello@v1.0.0 denied by rule "cooldown": versions younger than 72h are held back\n',
    );
    const list = await get(stack.gateway, '/example.com/hello/@v/list');
    expect(list.status).toBe(403);
    const records = new ModuleRecords(await FileRecords.open(recordsDir));
    const seen = await records.get('example.com/hello', 'v1.2.0');
    expect(Date.now() - Date.parse(seen!.firstSeen)).toBeLessThan(60_000);
  });

  it('passes once the recorded first sight is older than the cooldown, and with first_seen_cooldown off', async () => {
    const records = new ModuleRecords(await FileRecords.open(recordsDir));
    const long = new Date(Date.now() - 96 * 3600_000);
    await records.remember('example.com/lib/v2', 'v2.0.0', 'mod', 'h1:unused', long);
    const other = await startTestGateway(join(stack.dir, 'second'), stack.pki, {
      ...config,
      integrity: integrity(join(stack.dir, 'second', 'verified'), true),
    });
    try {
      expect((await get(other, '/example.com/lib/v2/@v/v2.0.0.info')).status).toBe(200);
      expect((await get(other, '/example.com/lib/v2/@v/v2.1.0.info')).status).toBe(403);
    } finally {
      await other.close();
    }
    const off = await startTestGateway(join(stack.dir, 'off'), stack.pki, {
      ...config,
      integrity: integrity(join(stack.dir, 'off', 'verified'), false),
    });
    try {
      expect((await get(off, '/example.com/hello/@v/v1.1.0.info')).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
