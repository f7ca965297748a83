import { parseOptions } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import {
  ARGON2_MEMORY_COST_KIB,
  ARGON2_PARALLELISM,
  ARGON2_TIME_COST,
  burnVerification,
  DUMMY_HASH,
  dummyHashLike,
  hashCostKey,
  hashPassword,
  isSupportedHash,
  verifyPasswordHash,
} from '../auth/password-hash.ts';

const BCRYPT_COST = 4;

describe('hashPassword', () => {
  it('makes an argon2id PHC string with the OWASP parameters', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(parseOptions(hash)).toMatchObject({
      memoryCost: ARGON2_MEMORY_COST_KIB,
      timeCost: ARGON2_TIME_COST,
      parallelism: ARGON2_PARALLELISM,
      outputLen: 32,
      saltLen: 16,
    });
    expect(await verifyPasswordHash(hash, 'correct horse')).toBe(true);
    expect(await verifyPasswordHash(hash, 'correct horsE')).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('handles non-ASCII passwords', async () => {
    const hash = await hashPassword('zoë-pw-Ü9');
    expect(await verifyPasswordHash(hash, 'zoë-pw-Ü9')).toBe(true);
    expect(await verifyPasswordHash(hash, 'zoe-pw-U9')).toBe(false);
  });
});

describe('verifyPasswordHash', () => {
  it.each(['$2a$', '$2b$', '$2y$'])('accepts bcrypt %s hashes', async (prefix) => {
    const hash = (await bcrypt.hash('s3cret', BCRYPT_COST)).replace(/^\$2b\$/, prefix);
    expect(isSupportedHash(hash)).toBe(true);
    expect(await verifyPasswordHash(hash, 's3cret')).toBe(true);
    expect(await verifyPasswordHash(hash, 's3creT')).toBe(false);
  });

  it.each([
    ['plain text', 's3cret'],
    ['LDAP SSHA', '{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='],
    ['MD5 crypt', '$1$abcdefgh$G//4keteveJp0qb8z2DxG/'],
    [
      'SHA-512 crypt',
      '$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g.',
    ],
    ['argon2i', '$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Ye3Y0jJNqUqDi/2/LqZZ2g'],
    ['truncated argon2id', '$argon2id$v=19$m=19456,t=2,p=1$Wlb8TAH23C8zX8Qd1CNTpg$'],
    ['bcrypt with a bad cost', '$2b$4$2Hl7FOvTkuF0TNOafQbyzuICWNLYgrKOF0EVqv4c4BmewDolcn9y.'],
    ['bcrypt too short', '$2b$04$2Hl7FOvTkuF0TNOafQbyzu'],
    ['empty', ''],
  ])('never verifies %s and reports it unsupported', async (_what, hash) => {
    expect(isSupportedHash(hash)).toBe(false);
    expect(await verifyPasswordHash(hash, 's3cret')).toBe(false);
    expect(await verifyPasswordHash(hash, hash)).toBe(false);
  });
});

describe('burnVerification', () => {
  it('takes about as long as verifying a real argon2id hash', async () => {
    const real = await hashPassword('real');
    await burnVerification('warm-up');
    // CPU time of the process (the hash runs on libuv's pool threads), not wall time:
    // other processes competing for the CPU stretch wall time, not the work done. Fastest of 7.
    const time = async (work: () => Promise<unknown>): Promise<number> => {
      let fastest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 7; i += 1) {
        const start = process.cpuUsage();
        await work();
        const used = process.cpuUsage(start);
        fastest = Math.min(fastest, used.user + used.system);
      }
      return fastest;
    };
    const verify = await time(() => verifyPasswordHash(real, 'guess'));
    const burn = await time(() => burnVerification('guess'));
    expect(burn).toBeGreaterThan(verify * 0.5);
    expect(burn).toBeLessThan(verify * 2);
  });

  it('uses a dummy hash nobody can match', async () => {
    expect(isSupportedHash(DUMMY_HASH)).toBe(true);
    expect(await verifyPasswordHash(DUMMY_HASH, '')).toBe(false);
  });
});

describe('dummyHashLike / hashCostKey', () => {
  it('copies the cost of a bcrypt hash', async () => {
    const dummy = await dummyHashLike(await bcrypt.hash('x', 5));
    expect(dummy).toMatch(/^\$2[aby]\$05\$/);
    expect(hashCostKey(dummy)).toBe('bcrypt:5');
  });

  it('copies the parameters of an argon2id hash', async () => {
    const dummy = await dummyHashLike(DUMMY_HASH);
    expect(dummy).not.toBe(DUMMY_HASH);
    expect(hashCostKey(dummy)).toBe(hashCostKey(DUMMY_HASH));
    expect(hashCostKey(DUMMY_HASH)).toBe('argon2id:19456:2:1:32');
  });

  it('falls back to DUMMY_HASH for unsupported hashes', async () => {
    expect(await dummyHashLike('{SSHA}x')).toBe(DUMMY_HASH);
    expect(hashCostKey('{SSHA}x')).toBeUndefined();
  });
});
