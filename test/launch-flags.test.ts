/**
 * The V8 flag modgate runs with (see the comment at the top of bin/modgate.ts)
 * is the same on every way it starts: the bin's shebang, npm start and the
 * image (the Dockerfile's ENTRYPOINT: compose.test.ts).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gatewayNodeFlags } from '../harness/node-flags.ts';

const execFileAsync = promisify(execFile);

describe('the launch flags', () => {
  it('cap the young generation at 8 MB per semi-space, on the shebang and in npm start', async () => {
    const flags = await gatewayNodeFlags();
    expect(flags).toEqual(['--max-semi-space-size=8']);
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.scripts.start).toBe(`node ${flags.join(' ')} bin/modgate.ts serve`);
  });

  it('are accepted by this Node at launch', async () => {
    const flags = await gatewayNodeFlags();
    const { stdout } = await execFileAsync(process.execPath, [
      ...flags,
      '-p',
      'JSON.stringify(process.execArgv)',
    ]);
    expect((JSON.parse(stdout) as string[]).slice(0, flags.length)).toEqual(flags);
  });
});
