/**
 * checksum/h1.ts: dirhash.Hash1 and the go.mod hash, on what the go
 * command's numbers (checked in checksum-go.test.ts) do not reach: Go's byte
 * order of names, newlines in names, and the streaming form.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hash1, ModHasher, modHash } from '../checksum/h1.ts';
import { isModgateError } from '../core/errors.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const summaryHash = (summary: string) => `h1:${createHash('sha256').update(summary).digest('base64')}`;

describe('hash1', () => {
  it('hashes the sorted "<hex>  <name>\\n" lines', () => {
    const files = [
      { name: 'm@v1.0.0/b.go', sha256: sha('b') },
      { name: 'm@v1.0.0/a.go', sha256: sha('a') },
    ];
    expect(hash1(files)).toBe(summaryHash(`${sha('a')}  m@v1.0.0/a.go\n${sha('b')}  m@v1.0.0/b.go\n`));
  });

  it('sorts names by UTF-8 bytes, as Go does, not by UTF-16 code units', () => {
    // U+FFFD is EF BF BD, U+1F600 is F0 9F 98 80: Go puts U+FFFD first; JavaScript's < does not.
    const high = { name: '\u{1F600}', sha256: sha('x') };
    const bmp = { name: '\uFFFD', sha256: sha('y') };
    expect(hash1([high, bmp])).toBe(summaryHash(`${sha('y')}  \uFFFD\n${sha('x')}  \u{1F600}\n`));
  });

  it('refuses a name with a newline, which would forge a summary line', () => {
    const forged = { name: `a\n${sha('z')}  b`, sha256: sha('a') };
    let caught: unknown;
    try {
      hash1([forged]);
    } catch (err) {
      caught = err;
    }
    expect(isModgateError(caught, 'upstream.bad_response')).toBe(true);
  });

  it('of no files is the hash of an empty summary', () => {
    expect(hash1([])).toBe(summaryHash(''));
  });
});

describe('modHash and ModHasher', () => {
  const goMod = 'module example.com/hello\n\ngo 1.19\n';

  it('is Hash1 over one file named go.mod', () => {
    expect(modHash(goMod)).toBe(summaryHash(`${sha(goMod)}  go.mod\n`));
    expect(modHash(Buffer.from(goMod))).toBe(modHash(goMod));
  });

  it('streams: chunks in, the same hash out', () => {
    const hasher = new ModHasher();
    for (let i = 0; i < goMod.length; i += 5) hasher.update(Buffer.from(goMod.slice(i, i + 5)));
    expect(hasher.digest()).toBe(modHash(goMod));
  });

  it('cannot be used after digest', () => {
    const hasher = new ModHasher().update(goMod);
    hasher.digest();
    expect(() => hasher.digest()).toThrow(TypeError);
    expect(() => hasher.update('x')).toThrow(TypeError);
  });
});
