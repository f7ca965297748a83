import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../core/bounded-map.ts';
import { checkPositiveInteger } from '../core/positive.ts';

describe('BoundedMap', () => {
  it('never holds more than max, and keeps the newest max keys (a model of the operations)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('set', 'use', 'delete'), fc.integer({ min: 0, max: 9 })), {
          maxLength: 60,
        }),
        (max, ops) => {
          const evicted: number[] = [];
          const map = new BoundedMap<number, number>(max, { onEvict: (k) => evicted.push(k) });
          let model: number[] = []; // oldest first
          const modelEvicted: number[] = [];
          for (const [op, key] of ops) {
            if (op === 'set' && max > 0) {
              model = [...model.filter((k) => k !== key), key];
              while (model.length > max) modelEvicted.push(model.shift()!);
              map.set(key, key * 10);
            } else if (op === 'use') {
              const had = model.includes(key);
              if (had) model = [...model.filter((k) => k !== key), key];
              expect(map.use(key)).toBe(had ? key * 10 : undefined);
            } else if (op === 'delete') {
              model = model.filter((k) => k !== key);
              map.delete(key);
            }
            expect([...map.keys()]).toEqual(model);
          }
          expect(evicted).toEqual(modelEvicted);
        },
      ),
    );
  });

  it('asks onFull first, so a sweep of expired entries can make room before the oldest is dropped', () => {
    const evicted: string[] = [];
    const map = new BoundedMap<string, boolean>(2, {
      onFull: (m) => {
        for (const [k, live] of m) if (!live) m.delete(k);
      },
      onEvict: (k) => evicted.push(k),
    });
    map.set('a', true).set('expired', false).set('b', true);
    expect([...map.keys()]).toEqual(['a', 'b']);
    map.set('c', true);
    expect([...map.keys()]).toEqual(['b', 'c']);
    expect(evicted).toEqual(['a']);
  });

  it('refuses a size that is not a non-negative integer', () => {
    expect(() => new BoundedMap(-1)).toThrow('bounded map size must be a non-negative integer, got -1');
    expect(() => new BoundedMap(1.5)).toThrow(/got 1\.5$/);
  });
});

describe('checkPositiveInteger', () => {
  it('accepts 1 and up (0 with zero: true), refuses the rest with the name and the value', () => {
    expect(() => checkPositiveInteger('ttl', 1)).not.toThrow();
    expect(() => checkPositiveInteger('ttl', 0, { zero: true })).not.toThrow();
    for (const bad of [0, -3, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => checkPositiveInteger('ttl', bad)).toThrow(`ttl must be a positive integer, got ${bad}`);
    }
  });
});
