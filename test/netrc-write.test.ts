/**
 * Netrc editing for `modgate login` / `logout`: other entries, comments,
 * macros and spacing survive byte for byte; modgate's entries (both machine
 * forms) are replaced or removed, never duplicated; new entries go before
 * `default`; the file is written atomically with mode 0600.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netrcEntryFor, parseNetrc } from '../client/netrc.ts';
import { readNetrcFile, removeNetrcEntries, setNetrcEntries, writeNetrcFile } from '../client/netrc-write.ts';

const HOST = 'goproxy.corp';
const HOST_PORT = 'goproxy.corp:8443';
const MACHINES = [HOST, HOST_PORT];
const NEW = MACHINES.map((machine) => ({ machine, login: 'alice', password: 'mgp_new' }));
const NEW_LINES = `machine ${HOST} login alice password mgp_new\nmachine ${HOST_PORT} login alice password mgp_new\n`;

describe('setNetrcEntries', () => {
  const cases: { name: string; before: string; after: string; removed: number }[] = [
    { name: 'empty file', before: '', after: NEW_LINES, removed: 0 },
    {
      name: 'appends after other entries, comments and odd spacing kept',
      before: '# work\nmachine github.com   login bob\tpassword ghp_x\n\n',
      after: `# work\nmachine github.com   login bob\tpassword ghp_x\n\n${NEW_LINES}`,
      removed: 0,
    },
    {
      name: 'adds the missing final newline first',
      before: 'machine a login b password c',
      after: `machine a login b password c\n${NEW_LINES}`,
      removed: 0,
    },
    {
      name: 'replaces both forms in place, once',
      before: `machine a login x password y\nmachine ${HOST} login old password p1\n# keep\nmachine ${HOST_PORT} login old password p2\nmachine z login q password r\n`,
      after: `machine a login x password y\n${NEW_LINES}# keep\nmachine z login q password r\n`,
      removed: 2,
    },
    {
      name: 'replaces a multi-line entry',
      before: `machine ${HOST}\n  login old\n  password p1\nmachine z login q password r\n`,
      after: `${NEW_LINES}machine z login q password r\n`,
      removed: 1,
    },
    {
      name: 'takes only its tokens out of a shared line',
      before: `machine a login x password y machine ${HOST} login old password p1\n`,
      after: `${NEW_LINES}machine a login x password y\n`,
      removed: 1,
    },
    {
      name: 'goes before default (go stops reading there)',
      before: 'machine a login x password y\ndefault\nlogin anon password any\n',
      after: `machine a login x password y\n${NEW_LINES}default\nlogin anon password any\n`,
      removed: 0,
    },
    {
      name: 'ends a macro that runs to the end of the file first',
      before: 'machine a login x password y\nmacdef init\ncd /pub\n',
      after: `machine a login x password y\nmacdef init\ncd /pub\n\n${NEW_LINES}`,
      removed: 0,
    },
    {
      name: 'a macro body naming the host is not an entry',
      before: `macdef init\nmachine ${HOST} login m password n\n\n`,
      after: `macdef init\nmachine ${HOST} login m password n\n\n${NEW_LINES}`,
      removed: 0,
    },
    {
      name: 'keeps CRLF line endings',
      before: `machine a login x password y\r\nmachine ${HOST} login old password p\r\n`,
      after: `machine a login x password y\r\nmachine ${HOST} login alice password mgp_new\r\nmachine ${HOST_PORT} login alice password mgp_new\r\n`,
      removed: 1,
    },
    {
      name: 'a similar host name is another machine',
      before: `machine ${HOST}.example login x password y\n`,
      after: `machine ${HOST}.example login x password y\n${NEW_LINES}`,
      removed: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = setNetrcEntries(c.before, NEW);
      expect(result.text).toBe(c.after);
      expect(result.removed).toBe(c.removed);
      // What go reads afterwards: exactly one entry per form, the new one.
      for (const machine of MACHINES) {
        expect(parseNetrc(result.text).filter((l) => l.machine === machine)).toHaveLength(1);
        expect(netrcEntryFor(parseNetrc(result.text), machine)?.password).toBe('mgp_new');
      }
    });
  }

  it('refuses values a netrc cannot hold', () => {
    expect(() => setNetrcEntries('', [{ machine: HOST, login: 'a b', password: 'x' }])).toThrow(
      expect.objectContaining({ code: 'request.invalid' }),
    );
    expect(() => setNetrcEntries('', [{ machine: HOST, login: 'a', password: '' }])).toThrow(
      expect.objectContaining({ code: 'request.invalid' }),
    );
  });
});

describe('removeNetrcEntries', () => {
  const cases: { name: string; before: string; after: string; removed: number }[] = [
    {
      name: 'nothing to remove',
      before: 'machine a login x password y\n',
      after: 'machine a login x password y\n',
      removed: 0,
    },
    {
      name: 'both forms, the rest byte for byte',
      before: `# mine\nmachine ${HOST} login u password p\nmachine a  login x  password y\nmachine ${HOST_PORT} login u password p`,
      after: '# mine\nmachine a  login x  password y\n',
      removed: 2,
    },
    {
      name: 'an entry sharing a line, at its end',
      before: `machine a login x password y   machine ${HOST} login u password p\n`,
      after: 'machine a login x password y\n',
      removed: 1,
    },
    {
      name: 'duplicates too',
      before: `machine ${HOST} login u password p\nmachine ${HOST} login v password q\ndefault login anon password z\n`,
      after: 'default login anon password z\n',
      removed: 2,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(removeNetrcEntries(c.before, MACHINES)).toEqual({ text: c.after, removed: c.removed });
    });
  }
});

describe('writeNetrcFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-netrc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the file with mode 0600', async () => {
    const path = join(dir, 'new-netrc');
    expect(await readNetrcFile(path)).toEqual({ text: '', mode: undefined });
    await writeNetrcFile(path, NEW_LINES);
    expect(await readNetrcFile(path)).toEqual({ text: NEW_LINES, mode: 0o600 });
  });

  it('tightens a looser mode and leaves no temp file behind', async () => {
    const path = join(dir, 'loose');
    await writeFile(path, 'machine a login x password y\n');
    await chmod(path, 0o644);
    await writeNetrcFile(path, 'machine a login x password z\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe('machine a login x password z\n');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('writes through a symlink to its target', async () => {
    const target = join(dir, 'real-netrc');
    const link = join(dir, 'link-netrc');
    await writeFile(target, 'old\n', { mode: 0o600 });
    await symlink(target, link);
    await writeNetrcFile(link, 'new\n');
    expect(await readFile(target, 'utf8')).toBe('new\n');
    expect((await stat(link)).isFile()).toBe(true);
  });
});
