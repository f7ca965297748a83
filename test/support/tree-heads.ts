/**
 * An in-memory TreeHeadStore (sumdb/client.ts) for tests, with a hook that
 * runs inside compareAndSet before the comparison, so a test can make
 * another writer win a race at exactly that moment.
 */
import type { TreeHeadStore } from '../../sumdb/client.ts';

export interface MemoryTreeHeads extends TreeHeadStore {
  /** The stored note, as a reader would load it. */
  readonly value: string | undefined;
  /** How many compare-and-set calls swapped, and how many lost. */
  readonly swaps: number;
  readonly conflicts: number;
  /** Runs (once) at the start of the next compareAndSet. */
  beforeNextSwap(hook: () => Promise<void>): void;
}

export function memoryTreeHeads(initial?: string): MemoryTreeHeads {
  let value = initial;
  let swaps = 0;
  let conflicts = 0;
  let hook: (() => Promise<void>) | undefined;
  return {
    get value() {
      return value;
    },
    get swaps() {
      return swaps;
    },
    get conflicts() {
      return conflicts;
    },
    beforeNextSwap(h) {
      hook = h;
    },
    async load() {
      return value;
    },
    async compareAndSet(expected, next) {
      const run = hook;
      hook = undefined;
      await run?.();
      if (value !== expected) {
        conflicts++;
        return { swapped: false, current: value };
      }
      value = next;
      swaps++;
      return { swapped: true, current: value };
    },
  };
}
