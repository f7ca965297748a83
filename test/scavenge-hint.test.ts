/**
 * The scavenge asked for every few MB of streamed bodies (scavenge-hint.ts),
 * and the launch flag that makes `gc` available on every way modgate starts.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type MinorGc,
  noteGc,
  SCAVENGE_EVERY_BYTES,
  ScavengeHint,
} from '../gateway/upstreams/scavenge-hint.ts';

const execFileAsync = promisify(execFile);

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

  it('waits while V8 marks the old generation, then asks at the next chunk', () => {
    const calls: Array<{ type: 'minor' }> = [];
    const hint = new ScavengeHint(SCAVENGE_EVERY_BYTES, (options) => calls.push(options));
    noteGc(hint, constants.NODE_PERFORMANCE_GC_INCREMENTAL);
    for (let i = 0; i < (2 * SCAVENGE_EVERY_BYTES) / CHUNK; i++) hint.streamed(CHUNK);
    noteGc(hint, constants.NODE_PERFORMANCE_GC_MINOR);
    hint.streamed(CHUNK);
    expect(calls).toEqual([]);
    noteGc(hint, constants.NODE_PERFORMANCE_GC_MAJOR);
    hint.streamed(CHUNK);
    expect(calls).toEqual([{ type: 'minor' }]);
  });

  it('does nothing without gc (a process started without --expose-gc)', () => {
    const hint = new ScavengeHint(1, undefined);
    expect(() => hint.streamed(CHUNK)).not.toThrow();
  });
});

describe("Node's gc entries, which tell when marking runs", () => {
  it('report incremental marking and the major GC that ends it', async () => {
    // Old-generation growth (objects kept across many scavenges) makes V8 mark incrementally.
    const script = `
      const { PerformanceObserver } = require('node:perf_hooks');
      const kinds = new Set();
      new PerformanceObserver((list) => { for (const e of list.getEntries()) kinds.add(e.detail.kind); })
        .observe({ entryTypes: ['gc'] });
      const keep = [];
      for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 3e5) keep.splice(0, 1e5); }
      setTimeout(() => console.log(JSON.stringify([...kinds])), 50);`;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], { timeout: 30_000 });
    const kinds = JSON.parse(stdout) as number[];
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_INCREMENTAL);
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MAJOR);
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
