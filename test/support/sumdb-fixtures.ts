/** The fixture modules (modules.ts) as checksum database records: the go.sum lines of each version. */
import type { FixtureSet } from './modules.ts';

export interface SumdbRecord {
  readonly path: string;
  readonly version: string;
  /** `<path> <version> h1:…\n<path> <version>/go.mod h1:…\n` */
  readonly goSum: string;
}

export function fixtureRecords(set: FixtureSet): SumdbRecord[] {
  return set.modules.flatMap((m) =>
    m.versions.map((v) => ({
      path: m.path,
      version: v.version,
      goSum: `${m.path} ${v.version} ${v.sum}\n${m.path} ${v.version}/go.mod ${v.goModSum}\n`,
    })),
  );
}
