/**
 * Regression: a gateway.yaml with `state.encryption.keys` loads. The resolved
 * key is a Buffer, and freezing the settings used to throw "Cannot freeze
 * array buffer views with elements", so `modgate serve` exited at start with
 * an unexpected error whenever sealing keys were configured.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsFromYaml } from '../gateway/config/load.ts';

const KEY_HEX = '00112233445566778899aabbccddeeff'.repeat(2);

describe('state.encryption.keys', () => {
  it('loads, frozen, with the key bytes as configured', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modgate-config-encryption-'));
    await writeFile(join(dir, 'state.key'), `${KEY_HEX}\n`);
    const text = `tls:
  cert: file:cert.pem
  key: file:key.pem
directory:
  file:
    path: users.yaml
upstreams:
  local:
    kind: dir
    path: goproxy
default_upstream: local
policy:
  path: policy.yaml
state:
  kind: redis
  url: redis://127.0.0.1:6379
  encryption:
    keys:
      - { id: k1, key: "file:${join(dir, 'state.key')}" }
`;
    await writeFile(join(dir, 'cert.pem'), 'CERT\n');
    await writeFile(join(dir, 'key.pem'), 'KEY\n');
    const settings = settingsFromYaml(join(dir, 'gateway.yaml'), text);
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.state)).toBe(true);
    expect(settings.state.sealingKeys.map((k) => [k.id, k.key.toString('hex')])).toEqual([['k1', KEY_HEX]]);
  });
});
