import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBounded } from '../core/read-bounded.ts';

const streamOf = (chunks: Buffer[]) => Readable.from(chunks, { objectMode: false });

describe('readBounded', () => {
  it('keeps the first min(size, limit) bytes, and says over exactly when the body is larger', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 200 }),
        fc.constantFrom('drain', 'pause', 'destroy' as const),
        async (parts, limit, overflow) => {
          const chunks = parts.filter((p) => p.length > 0).map((p) => Buffer.from(p));
          const all = Buffer.concat(chunks);
          const read = await readBounded(streamOf(chunks), limit, overflow);
          expect(read.over).toBe(all.length > limit);
          expect(read.bytes).toEqual(all.subarray(0, Math.min(limit, all.length)));
          if (overflow === 'drain' || !read.over) expect(read.size).toBe(all.length);
          else expect(read.size).toBeGreaterThan(limit);
        },
      ),
    );
  });

  it('destroy ends the stream at the first byte beyond the limit; pause leaves it paused', async () => {
    const big = () => streamOf([Buffer.alloc(10), Buffer.alloc(10), Buffer.alloc(10)]);
    const destroyed = big();
    await readBounded(destroyed, 15, 'destroy');
    expect(destroyed.destroyed).toBe(true);
    const paused = big();
    await readBounded(paused, 15, 'pause');
    expect({ destroyed: paused.destroyed, paused: paused.isPaused() }).toEqual({
      destroyed: false,
      paused: true,
    });
  });

  it("rejects with the stream's error", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('reset by peer'));
      },
    });
    await expect(readBounded(failing, 10, 'drain')).rejects.toThrow('reset by peer');
  });
});
