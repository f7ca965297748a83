/**
 * A rejected policy edit is logged once, and again only when the rejection
 * changes: a gateway (users file, local folder upstream) whose policy file is
 * deleted, broken, saved again unchanged, repaired and deleted again, while
 * the reload watcher and its 1 s poll keep looking at it.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { ALLOW_ALL_POLICY, type Stack, startStack } from './support/stack.ts';

/** Longer than two polls of the policy file (1 s each) plus the debounce. */
const SETTLE_MS = 2_500;
const BROKEN = `${ALLOW_ALL_POLICY}mode: sometimes\n`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ directory: 'file', upstream: 'dir' });
}, 30_000);
afterAll(async () => {
  await stack?.close();
});

/** The `policy.reload_failed` and `policy.reload` events in the operational log, in order. */
async function reloadEvents(): Promise<{ event: string; msg: string }[]> {
  return (await stack.gateway.logText())
    .split('\n')
    .filter((line) => line.includes('"event":"policy.reload'))
    .map((line) => JSON.parse(line) as { event: string; msg: string });
}

async function lastError(): Promise<{ at: string; problems: string[] } | null> {
  const res = await httpsGet(stack.gateway.url, '/_modgate/status', { ca: stack.pki.caPem });
  return (JSON.parse(res.text) as { policy: { last_error: { at: string; problems: string[] } | null } })
    .policy.last_error;
}

/** Waits (bounded) until the log holds `count` reload events, then a while longer for any extra. */
async function settledEvents(count: number): Promise<{ event: string; msg: string }[]> {
  const deadline = Date.now() + 5_000;
  while ((await reloadEvents()).length < count && Date.now() < deadline) await delay(50);
  await delay(SETTLE_MS);
  return reloadEvents();
}

async function replacePolicy(text: string): Promise<void> {
  await writeFile(`${stack.policyPath}.tmp`, text);
  await rename(`${stack.policyPath}.tmp`, stack.policyPath);
}

describe('policy reload log', () => {
  it('logs a deleted or broken policy file once per distinct rejection, and serves the last good policy meanwhile', async () => {
    const alice = { basic: [USERS.alice.name, USERS.alice.password] as [string, string] };
    const info = () =>
      httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.0.0.info', { ca: stack.pki.caPem, ...alice });

    await rm(stack.policyPath);
    const deleted = await settledEvents(1);
    expect(deleted.map((e) => e.event)).toEqual(['policy.reload_failed']);
    expect(deleted[0]?.msg).toMatch(/: cannot read policy .*policy\.yaml: ENOENT$/);
    const firstError = await lastError();
    expect(firstError?.problems).toEqual([expect.stringMatching(/ENOENT$/)]);
    expect((await info()).status).toBe(200);

    // A different rejection is logged; saving the same broken text again is not.
    await replacePolicy(BROKEN);
    expect((await settledEvents(2)).map((e) => e.event)).toEqual([
      'policy.reload_failed',
      'policy.reload_failed',
    ]);
    const brokenError = await lastError();
    expect(brokenError?.problems.join('\n')).toMatch(/policy\.yaml:3: mode: /);
    await writeFile(stack.policyPath, BROKEN);
    expect(await settledEvents(2)).toHaveLength(2);
    expect((await lastError())?.at).toBe(brokenError?.at);
    expect((await info()).status).toBe(200);

    // Repaired, then deleted again: that is news again.
    await replacePolicy(ALLOW_ALL_POLICY);
    expect((await settledEvents(3)).map((e) => e.event)).toEqual([
      'policy.reload_failed',
      'policy.reload_failed',
      'policy.reload',
    ]);
    expect(await lastError()).toBeNull();
    await rm(stack.policyPath);
    expect((await settledEvents(4)).map((e) => e.event).at(-1)).toBe('policy.reload_failed');
    expect(await reloadEvents()).toHaveLength(4);
  }, 60_000);
});
