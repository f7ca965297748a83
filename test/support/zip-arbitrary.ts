/**
 * fast-check arbitraries for module zips, good and broken: entries with
 * names that the go command accepts and names it refuses (wrong prefix,
 * case collisions, go.mod in the wrong place or case, invalid file paths),
 * stored or deflated, with or without extra fields; then corruptions of the
 * written bytes (truncation, flipped bytes anywhere, header fields such as
 * sizes, CRC, method, flags and offsets set to other values).
 */
import type { Readable } from 'node:stream';
import { buffer as streamToBuffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { ZipFile } from 'yazl';

/** Module versions the zips are for: uppercase, /v2, +incompatible, a pseudo-version. */
export const ZIP_MODULES = [
  { path: 'example.com/m', version: 'v1.0.0' },
  { path: 'github.com/Acme/Tool/v2', version: 'v2.1.0' },
  { path: 'example.com/old', version: 'v3.0.0+incompatible' },
  { path: 'example.com/p', version: 'v0.0.0-20240101000000-abcdefabcdef' },
] as const;

/** Path elements that exercise checkZip: go.mod spellings, case folds, bad elements, Windows names. */
const ELEMENTS = [
  'a',
  'b.go',
  'A.go',
  'a.go',
  'go.mod',
  'GO.MOD',
  'LICENSE',
  'x',
  'X',
  'é',
  'É',
  'K',
  'k',
  '\u212a',
  's',
  '\u017f',
  'ı',
  'I',
  'ß',
  '.',
  '',
  'CON',
  'x y',
  ':',
  '.git',
  'a~1',
];

export interface ZipEntrySpec {
  /** Name inside the module, or a whole name when {@link prefix} is false. */
  name: string;
  prefix: 'right' | 'none' | 'other';
  dir: boolean;
  content: Uint8Array;
  compress: boolean;
}

export interface ZipSpec {
  module: number;
  entries: ZipEntrySpec[];
  dosTimestamps: boolean;
}

const content = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.string({ maxLength: 8 }), fc.nat(400)).map(([s, n]) => new TextEncoder().encode(s.repeat(n))),
);

const entry: fc.Arbitrary<ZipEntrySpec> = fc.record({
  name: fc.array(fc.constantFrom(...ELEMENTS), { minLength: 1, maxLength: 3 }).map((e) => e.join('/')),
  prefix: fc.constantFrom('right', 'right', 'right', 'right', 'right', 'none', 'other'),
  dir: fc.nat(6).map((n) => n === 0),
  content,
  compress: fc.boolean(),
});

export const zipSpec: fc.Arbitrary<ZipSpec> = fc.record({
  module: fc.nat(ZIP_MODULES.length - 1),
  entries: fc.array(entry, { maxLength: 6 }),
  dosTimestamps: fc.boolean(),
});

/** Writes the zip; entries yazl itself refuses (`..`, backslashes, absolute) are left out. */
export async function buildZip(spec: ZipSpec): Promise<Buffer> {
  const { path, version } = ZIP_MODULES[spec.module]!;
  const zip = new ZipFile();
  const mtime = new Date(Date.UTC(2024, 0, 1));
  for (const e of spec.entries) {
    const prefix =
      e.prefix === 'right' ? `${path}@${version}/` : e.prefix === 'other' ? `${path}@v9.9.9/` : '';
    const name = prefix + e.name;
    try {
      if (e.dir) zip.addEmptyDirectory(name, { mtime, forceDosTimestamp: spec.dosTimestamps });
      else {
        zip.addBuffer(Buffer.from(e.content), name, {
          mtime,
          compress: e.compress,
          forceDosTimestamp: spec.dosTimestamps,
        });
      }
    } catch {
      // a name yazl will not write
    }
  }
  zip.end();
  return streamToBuffer(zip.outputStream as Readable);
}

/** One change to the written bytes. */
export type Corruption =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number[]; xor: number[] }
  | { kind: 'field'; pick: number; delta: number; width: 2 | 4 };

export const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      xor: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 3, maxLength: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      pick: fc.nat(),
      delta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer()),
      width: fc.constantFrom(2 as const, 4 as const),
    }),
  },
);

/** Offsets of the header fields worth changing: sizes, CRC, method, flags, lengths, offsets, counts. */
function fieldOffsets(zip: Buffer): { at: number; width: 2 | 4 }[] {
  const out: { at: number; width: 2 | 4 }[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    const sig = zip.readUInt32LE(i);
    const add = (fields: [number, 2 | 4][]) => {
      for (const [off, width] of fields) if (i + off + width <= zip.length) out.push({ at: i + off, width });
    };
    if (sig === 0x04034b50)
      add([
        [6, 2],
        [8, 2],
        [14, 4],
        [18, 4],
        [22, 4],
        [26, 2],
        [28, 2],
      ]);
    if (sig === 0x02014b50)
      add([
        [8, 2],
        [10, 2],
        [16, 4],
        [20, 4],
        [24, 4],
        [28, 2],
        [30, 2],
        [32, 2],
        [42, 4],
      ]);
    if (sig === 0x06054b50)
      add([
        [4, 2],
        [8, 2],
        [10, 2],
        [12, 4],
        [16, 4],
        [20, 2],
      ]);
    if (sig === 0x08074b50)
      add([
        [4, 4],
        [8, 4],
        [12, 4],
      ]);
  }
  return out;
}

/** Applies `c` to a copy of `zip`. */
export function corrupt(zip: Buffer, c: Corruption): Buffer {
  const out = Buffer.from(zip);
  if (c.kind === 'none' || zip.length === 0) return out;
  if (c.kind === 'truncate') return out.subarray(0, c.at % zip.length);
  if (c.kind === 'flip') {
    c.at.forEach((at, i) => {
      out[at % out.length]! ^= c.xor[i]!;
    });
    return out;
  }
  const fields = fieldOffsets(zip);
  if (fields.length === 0) return out;
  const { at, width } = fields[c.pick % fields.length]!;
  if (width === 2) out.writeUInt16LE((out.readUInt16LE(at) + c.delta) & 0xffff, at);
  else out.writeUInt32LE((out.readUInt32LE(at) + c.delta) >>> 0, at);
  return out;
}
