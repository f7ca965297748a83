import { readFile } from 'node:fs/promises';

/**
 * The Node flags on bin/modgate.ts's shebang (`#!/usr/bin/env -S node
 * <flags>`). V8 takes them only at launch, so every way of starting modgate
 * passes the same (npm start, the Dockerfile: test/launch-flags.test.ts), and
 * the bench's forwarders run with them too.
 */
export async function gatewayNodeFlags(): Promise<string[]> {
  const bin = await readFile(new URL('../bin/modgate.ts', import.meta.url), 'utf8');
  const shebang = bin.slice(0, bin.indexOf('\n'));
  const m = /^#!\/usr\/bin\/env (?:-S )?node((?: \S+)*)$/.exec(shebang);
  if (m === null) throw new Error(`bin/modgate.ts: unexpected first line ${shebang}`);
  return m[1]!.split(' ').filter((f) => f !== '');
}
