/**
 * sumdb/record.ts: lookup answers split as tlog.ParseRecord does, and the
 * go.sum hashes taken only from lines of the module version asked.
 */
import { describe, expect, it } from 'vitest';
import { goSumHashes, parseLookupAnswer } from '../sumdb/record.ts';
import { refusal } from './support/refusal.ts';

/** The x/mod error text a call is refused with (as sumdb.bad_response). */
const bad = (fn: () => unknown): string => refusal('sumdb.bad_response', fn);

const H1 = 'h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const H2 = 'h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=';
const RECORD = `example.com/a v1.0.0 ${H1}\nexample.com/a v1.0.0/go.mod ${H2}\n`;

describe('parseLookupAnswer', () => {
  it('splits id, record text and tree note', () => {
    const answer = parseLookupAnswer(Buffer.from(`12\n${RECORD}\ngo.sum database tree\n…`));
    expect([answer.id, answer.text.toString(), answer.treeNote.toString()]).toEqual([
      12,
      RECORD,
      'go.sum database tree\n…',
    ]);
  });

  it.each([
    ['no id line', RECORD, 'malformed record: no record id'],
    ['a negative id', `-1\n${RECORD}\n`, 'malformed record: no record id'],
    ['an id past 2^53', `9007199254740993\n${RECORD}\n`, 'malformed record: no record id'],
    ['no blank line', `1\n${RECORD}`, 'malformed record: no blank line after the record'],
    ['a control character', `1\nexample.com/a v1.0.0 \u0001\n\n`, 'malformed record: not go.sum lines'],
  ])('refuses %s', (_what, body, message) => {
    expect(bad(() => parseLookupAnswer(Buffer.from(body)))).toBe(message);
  });
});

describe('goSumHashes', () => {
  const hashes = (text: string) => goSumHashes(Buffer.from(text), 'example.com/a', 'v1.0.0');

  it('takes the h1 hashes of the zip and the go.mod, and ignores hashes of other algorithms', () => {
    expect(hashes(RECORD)).toEqual({ zip: H1, mod: H2 });
    expect(hashes(`example.com/a v1.0.0 h2:xyz\n${RECORD}`)).toEqual({ zip: H1, mod: H2 });
  });

  it.each([
    ['another module', `example.com/b v1.0.0 ${H1}\n${RECORD}`, 'record is not for example.com/a@v1.0.0'],
    ['another version', `example.com/a v1.0.1 ${H1}\n`, 'record is not for example.com/a@v1.0.0'],
    ['four fields', `example.com/a v1.0.0 ${H1} x\n`, 'record is not for example.com/a@v1.0.0'],
    ['no go.mod hash', `example.com/a v1.0.0 ${H1}\n`, 'lacks the h1 hash of its go.mod'],
    ['no zip hash', `example.com/a v1.0.0/go.mod ${H2}\n`, 'lacks the h1 hash of its zip'],
    ['two zip hashes', `example.com/a v1.0.0 ${H2}\n${RECORD}`, 'two h1 hashes for v1.0.0'],
    ['a hash that is not 32 bytes', `example.com/a v1.0.0 h1:AAAA\n`, 'bad hash "h1:AAAA"'],
  ])('refuses a record with %s', (_what, text, message) => {
    expect(bad(() => hashes(text))).toContain(message);
  });
});
