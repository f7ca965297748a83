/** The memory of parsed GOPROXY paths: same answers as parseGoproxyPath, bounded, frozen, errors not kept. */
import { describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { parseGoproxyPath } from '../gateway/protocol/goproxy-path.ts';
import { ParsedPaths } from '../gateway/protocol/parsed-paths.ts';

const PATHS = [
  '/github.com/%21acme/tool/@v/v1.2.3.zip',
  '/example.com/hello/@v/list',
  '/example.com/hello/@latest',
  '/sumdb/sum.golang.org/lookup/github.com/!acme/tool@v1.2.3',
];

describe('ParsedPaths', () => {
  it('answers what parseGoproxyPath answers, the same frozen object on a repeat', () => {
    const paths = new ParsedPaths();
    for (const p of PATHS) {
      const first = paths.parse(p);
      expect(first).toEqual(parseGoproxyPath(p));
      expect(paths.parse(p)).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      if (first.kind === 'sumdb') expect(Object.isFrozen(first.lookup)).toBe(true);
    }
  });

  it('throws for a bad path every time and does not keep it', () => {
    const paths = new ParsedPaths();
    for (let i = 0; i < 2; i++) {
      const err = (() => {
        try {
          paths.parse('/example.com/../x/@v/list');
        } catch (e) {
          return e;
        }
      })();
      expect(isModgateError(err, 'request.invalid_path')).toBe(true);
    }
    expect(paths.size).toBe(0);
  });

  it('keeps at most its bound, oldest out first', () => {
    const paths = new ParsedPaths(2);
    const a = paths.parse(PATHS[0]!);
    paths.parse(PATHS[1]!);
    paths.parse(PATHS[2]!);
    expect(paths.size).toBe(2);
    expect(paths.parse(PATHS[0]!)).not.toBe(a);
    expect(paths.parse(PATHS[0]!)).toEqual(a);
  });
});
