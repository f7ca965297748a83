/**
 * The `integrity:` section of gateway.yaml (gateway/integrity/config.ts):
 * enforce against sum.golang.org by default, with the verifier key the go
 * command itself carries; folders taken from the config file's folder; a key
 * for another database or a malformed size refused with its key path.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { settingsFromYaml } from '../gateway/config/load.ts';
import { GO } from '../harness/go.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-integrity-config-'));
  await writeFile(join(dir, 'cert.pem'), 'CERT\n');
  await writeFile(join(dir, 'key.pem'), 'KEY\n');
});

const BASE = `tls: { cert: file:cert.pem, key: file:key.pem }
directory: { file: { path: users.yaml } }
upstreams: { local: { kind: dir, path: goproxy } }
default_upstream: local
policy: { path: policy.yaml }
`;

function load(extra: string) {
  return settingsFromYaml(join(dir, 'gateway.yaml'), BASE + extra);
}

function problems(extra: string): string[] {
  try {
    load(extra);
  } catch (err) {
    if (isModgateError(err, 'config.invalid')) return err.message.split('\n').slice(1);
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('integrity config', () => {
  it('enforces against sum.golang.org by default, with the key the go command knows', async () => {
    const { integrity } = load('');
    expect(integrity.mode).toBe('enforce');
    expect(integrity.checksum_database.name).toBe('sum.golang.org');
    // cmd/go/internal/modfetch/key.go of the machine's go names the same key.
    const goKeys = await readFile(
      join(GO.path, '..', '..', 'src', 'cmd', 'go', 'internal', 'modfetch', 'key.go'),
      'utf8',
    );
    expect(goKeys).toContain(`"sum.golang.org": "${integrity.checksum_database.key}"`);
    expect(integrity.cache.dir).toBe(join(dir, '.modgate', 'verified'));
    expect(integrity.records_dir).toBe(join(dir, '.modgate', 'records'));
    expect(integrity.first_seen_cooldown).toBe(true);
  });

  it('refuses a key of another database and a malformed size, naming the keys', () => {
    const found = problems(`integrity:
  checksum_database: { name: sum.example.com, key: "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8" }
  cache: { max_size: ten gigs }
`);
    expect(found.join('\n')).toMatch(
      /integrity\.checksum_database\.key: the key names sum\.golang\.org, not sum\.example\.com/,
    );
    expect(found.join('\n')).toMatch(/integrity\.cache\.max_size: a size such as 500MB, 10GB or 1TB/);
  });
});
