/**
 * The scavenge asked for every few MB of streamed bodies (scavenge-hint.ts),
 * and the launch flag that makes `gc` available on every way modgate starts.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type MinorGc, SCAVENGE_EVERY_BYTES, ScavengeHint } from '../gateway/upstreams/scavenge-hint.ts';

const CHUNK = 64 * 1024;

describe('ScavengeHint', () => {
  it('asks for one minor GC per SCAVENGE_EVERY_BYTES streamed, over any mix of streams', () => {
    const calls: Array<{ type: 'minor' }> = [];
    const gc: MinorGc = (options) => calls.push(options);
    const hint = new ScavengeHint(SCAVENGE_EVERY_BYTES, gc);
    const chunksPerHint = SCAVENGE_EVERY_BYTES / CHUNK;
    for (let i = 1; i < chunksPerHint; i++) hint.streamed(CHUNK);
    expect(calls).toEqual([]);
    hint.streamed(CHUNK);
    expect(calls).toEqual([{ type: 'minor' }]);
    // Small pieces from many streams add up the same way.
    for (let i = 0; i < SCAVENGE_EVERY_BYTES / 1000 + 1; i++) hint.streamed(1000);
    expect(calls).toHaveLength(2);
  });

  it('does nothing without gc (a process started without --expose-gc)', () => {
    const hint = new ScavengeHint(1, undefined);
    expect(() => hint.streamed(CHUNK)).not.toThrow();
  });
});

describe('the launch flag --expose-gc', () => {
  it('is on the bin shebang and in npm start (the Dockerfile: compose.test.ts)', async () => {
    const bin = await readFile(new URL('../bin/modgate.ts', import.meta.url), 'utf8');
    expect(bin.split('\n')[0]).toBe('#!/usr/bin/env -S node --expose-gc');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.scripts.start).toBe('node --expose-gc bin/modgate.ts serve');
  });
});
