/**
 * Editing a netrc file for `modgate login` / `logout` without disturbing it:
 * entries for other machines, comments, macros, spacing and line endings are
 * kept byte for byte; the entries for modgate's host are replaced (or
 * removed), never duplicated; new entries go before `default` (where go and
 * every other reader stop). Entries are found with the go command's rules
 * (see parseNetrc in ./netrc.ts): tokens in pairs per line, `machine` starts
 * an entry, `macdef` bodies run to the next empty line.
 *
 * The file is written atomically (temp file in the same folder, fsync,
 * rename) with mode 0600, through a symlink to its target.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModgateError } from '../core/errors.ts';
import type { NetrcLine } from './netrc.ts';

/** The mode of a netrc file: readable and writable by its owner only. */
export const NETRC_MODE = 0o600;

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

interface Line {
  readonly start: number;
  /** Offset after the line's `\n` (or the end of the text). */
  readonly next: number;
  readonly tokens: readonly Token[];
}

interface Entry {
  readonly machine: string;
  readonly tokens: Token[];
}

/** The entries of a netrc text and where new ones belong. */
interface Layout {
  readonly lines: readonly Line[];
  readonly entries: readonly Entry[];
  /** Where a new entry goes when none is replaced: before `default`, else the end. */
  readonly insertAt: number;
  /** The text ends inside a macro body: an empty line must end it first. */
  readonly endsInMacro: boolean;
}

function layout(text: string): Layout {
  const lines: Line[] = [];
  const entries: Entry[] = [];
  let current: Entry | undefined;
  let inMacro = false;
  let insertAt = text.length;
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const next = newline === -1 ? text.length : newline + 1;
    const body = text.slice(start, end);
    const lineStart = start;
    start = next;
    if (inMacro) {
      if (body === '') inMacro = false;
      continue;
    }
    // A comment line belongs to no entry (go reads it as harmless pairs).
    if (body.trimStart().startsWith('#')) continue;
    const tokens = [...body.matchAll(/\S+/g)].map((m) => ({
      text: m[0],
      start: lineStart + m.index,
      end: lineStart + m.index + m[0].length,
    }));
    if (tokens.some((t, i) => t.text === 'default' && (i % 2 === 0 || i === tokens.length - 1))) {
      insertAt = lineStart;
      break;
    }
    lines.push({ start: lineStart, next, tokens });
    for (let i = 0; i < tokens.length; i += 2) {
      const key = tokens[i]!;
      const value = tokens[i + 1];
      if (key.text === 'machine' && value !== undefined) {
        current = { machine: value.text, tokens: [key, value] };
        entries.push(current);
      } else if (key.text === 'macdef') {
        current = undefined;
        inMacro = true;
      } else current?.tokens.push(...(value === undefined ? [key] : [key, value]));
    }
  }
  return { lines, entries, insertAt, endsInMacro: inMacro };
}

/** A byte range to cut from the text. */
interface Cut {
  readonly start: number;
  readonly end: number;
}

/** The cuts that remove `tokens`: whole lines when nothing else is on them, else the tokens and the space after them. */
function cutsFor(lines: readonly Line[], tokens: ReadonlySet<Token>): Cut[] {
  const cuts: Cut[] = [];
  for (const line of lines) {
    const gone = line.tokens.map((t) => tokens.has(t));
    if (!gone.includes(true)) continue;
    if (gone.every(Boolean)) {
      cuts.push({ start: line.start, end: line.next });
      continue;
    }
    for (let i = 0; i < line.tokens.length; ) {
      if (!gone[i]) {
        i += 1;
        continue;
      }
      let j = i;
      while (j + 1 < line.tokens.length && gone[j + 1]) j += 1;
      const after = line.tokens[j + 1];
      const before = line.tokens[i - 1];
      // Cut up to the next kept token, or from the previous one when the run ends the line.
      if (after !== undefined) cuts.push({ start: line.tokens[i]!.start, end: after.start });
      else cuts.push({ start: before!.end, end: line.tokens[j]!.end });
      i = j + 1;
    }
  }
  return cuts.sort((a, b) => a.start - b.start);
}

function splice(text: string, cuts: readonly Cut[], insertAt: number, block: string): string {
  let out = '';
  let pos = 0;
  let inserted = block === '';
  for (const cut of cuts) {
    if (!inserted && insertAt <= cut.start) {
      out += text.slice(pos, insertAt) + block;
      pos = insertAt;
      inserted = true;
    }
    out += text.slice(pos, cut.start);
    pos = cut.end;
  }
  if (!inserted) {
    out += text.slice(pos, insertAt) + block;
    pos = insertAt;
  }
  return out + text.slice(pos);
}

/** The result of an edit: the new text and how many entries were taken out. */
export interface NetrcEdit {
  readonly text: string;
  readonly removed: number;
}

/** Removes every entry whose machine is one of `machines`; the rest of the text is unchanged. */
export function removeNetrcEntries(text: string, machines: readonly string[]): NetrcEdit {
  return edit(text, machines, []);
}

/**
 * Replaces the entries for the machines of `entries` by `entries`: written
 * where the first replaced entry was, else before `default`, else at the end.
 */
export function setNetrcEntries(text: string, entries: readonly NetrcLine[]): NetrcEdit {
  for (const e of entries) {
    for (const [what, value] of Object.entries(e)) {
      if (value === '' || /\s/.test(value)) {
        throw new ModgateError(
          'request.invalid',
          `a netrc ${what} cannot be empty or hold white space: "${value}"`,
        );
      }
    }
  }
  return edit(
    text,
    entries.map((e) => e.machine),
    entries,
  );
}

function edit(text: string, machines: readonly string[], entries: readonly NetrcLine[]): NetrcEdit {
  const { lines, entries: found, insertAt, endsInMacro } = layout(text);
  const matched = found.filter((e) => machines.includes(e.machine));
  const cuts = cutsFor(lines, new Set(matched.flatMap((e) => e.tokens)));
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let block = entries
    .map((e) => `machine ${e.machine} login ${e.login} password ${e.password}${eol}`)
    .join('');
  let at = insertAt;
  const first = matched[0]?.tokens[0];
  if (first !== undefined) at = lines.find((l) => l.start <= first.start && first.start < l.next)!.start;
  else if (block !== '' && at === text.length) {
    if (text !== '' && !text.endsWith('\n')) block = eol + block;
    if (endsInMacro) block = eol + block;
  }
  return { text: splice(text, cuts, at, block), removed: matched.length };
}

/** A netrc file as read: its text ('' when missing) and mode. */
export interface NetrcFile {
  readonly text: string;
  /** Permission bits, undefined when the file does not exist. */
  readonly mode: number | undefined;
}

export async function readNetrcFile(path: string): Promise<NetrcFile> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, mode: info.mode & 0o777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', mode: undefined };
    throw err;
  }
}

/**
 * Replaces the file's content atomically with mode 0600: a temp file beside
 * the target (a symlink's target), written and fsynced, renamed over it, then
 * the folder fsynced. Errno errors propagate.
 */
export async function writeNetrcFile(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return path;
    throw err;
  });
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', NETRC_MODE);
  try {
    await file.writeFile(text, 'utf8');
    await file.chmod(NETRC_MODE);
    await file.sync();
    await file.close();
    await rename(temp, target);
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  const folder = await open(dir, 'r').catch(() => undefined);
  await folder?.sync().catch(() => {});
  await folder?.close();
}
