/**
 * The one table `npm run bench` prints: a row per contender, the ratios of
 * modgate to the nginx floor and to direct, and the targets (BENCHMARKS.md) with
 * met / MISSED.
 */
import { PACED_RATE } from './paced.ts';

/** What was measured for one contender; a figure is undefined where it does not apply. */
export interface Figures {
  infoRps?: number;
  /** Latency at saturation (wrk's closed loop): mostly queueing, connections ÷ throughput. */
  infoP50Ms?: number;
  infoP99Ms?: number;
  /** Latency at the fixed rate of bench/support/paced.ts ({@link PACED_RATE} req/s), below saturation. */
  pacedP50Ms?: number;
  pacedP99Ms?: number;
  /** CPU time of the serving process(es) per .info request (µs): less sensitive to a busy machine than req/s. */
  infoCpuUs?: number;
  zip1mMbps?: number;
  /** CPU time of the serving process(es) per MB of 1 MB zips (ms): like infoCpuUs, steadier than MB/s. */
  zip1mCpuMsPerMb?: number;
  zip100mMbps?: number;
  zip100mCpuMsPerMb?: number;
  /** Peak RSS of the serving process(es) over the whole run (MB). */
  peakRssMb?: number;
  /** Peak RSS over the RSS just before the 100 MB downloads (MB). */
  rssGrowthMb?: number;
  /** Median first request of a new user, on a new connection (ms). */
  coldAuthMs?: number;
  /** The same request by a cached user on a new connection (ms). */
  warmFirstMs?: number;
  ldapBindsPer1k?: number;
  /** Median wall time of `go mod download` of the graph (ms), module cache on disk (as on a developer's machine). */
  goDownloadMs?: number;
  /** The same with the module cache in tmpfs: without go's own disk writes, what the proxy adds shows. */
  goDownloadTmpfsMs?: number;
  /** {@link goDownloadMs} with the old go generation (Debian's go 1.19), when the machine has it. */
  goDownloadLegacyMs?: number;
  /** {@link goDownloadTmpfsMs} with the old go generation. */
  goDownloadLegacyTmpfsMs?: number;
}

/** A row: measured figures, or why the contender cannot run yet. */
export type Row = { name: string; figures: Figures } | { name: string; notYet: string };

type Key = Exclude<keyof Figures, 'warmFirstMs'>;
/** How modgate compares with a baseline: `×` a ratio, `+ms` a difference. */
type Compare = 'ratio' | 'added' | 'none';

interface Column {
  key: Key;
  title: string;
  format: (v: number, f: Figures) => string;
  compare: Compare;
}

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const ms = (v: number) => `${v.toFixed(2)} ms`;

const COLUMNS: readonly Column[] = [
  { key: 'infoRps', title: '.info req/s', format: int, compare: 'ratio' },
  { key: 'infoP50Ms', title: '.info p50, saturated', format: ms, compare: 'added' },
  { key: 'infoP99Ms', title: '.info p99, saturated', format: ms, compare: 'added' },
  { key: 'pacedP50Ms', title: `.info p50 at ${PACED_RATE} req/s`, format: ms, compare: 'added' },
  { key: 'pacedP99Ms', title: `.info p99 at ${PACED_RATE} req/s`, format: ms, compare: 'added' },
  { key: 'infoCpuUs', title: '.info CPU/req', format: (v) => `${v.toFixed(0)} µs`, compare: 'ratio' },
  { key: 'zip1mMbps', title: '1 MB zip', format: (v) => `${int(v)} MB/s`, compare: 'ratio' },
  { key: 'zip1mCpuMsPerMb', title: '1 MB zip CPU/MB', format: ms, compare: 'ratio' },
  { key: 'zip100mMbps', title: '100 MB zip', format: (v) => `${int(v)} MB/s`, compare: 'ratio' },
  { key: 'zip100mCpuMsPerMb', title: '100 MB zip CPU/MB', format: ms, compare: 'ratio' },
  { key: 'peakRssMb', title: 'peak RSS', format: (v) => `${v.toFixed(0)} MB`, compare: 'none' },
  { key: 'rssGrowthMb', title: 'RSS growth, 100 MB', format: (v) => `${v.toFixed(1)} MB`, compare: 'none' },
  {
    key: 'coldAuthMs',
    title: 'cold auth (p50)',
    format: (v, f) => (f.warmFirstMs === undefined ? ms(v) : `${ms(v)} (cached: ${ms(f.warmFirstMs)})`),
    compare: 'none',
  },
  { key: 'ldapBindsPer1k', title: 'LDAP binds /1k req', format: (v) => v.toFixed(2), compare: 'none' },
  ...goDownloadColumns('current go', 'goDownloadMs', 'goDownloadTmpfsMs'),
  ...goDownloadColumns('go 1.19', 'goDownloadLegacyMs', 'goDownloadLegacyTmpfsMs'),
];

/** The two `go mod download` columns (cache on disk, in tmpfs) of one go generation. */
function goDownloadColumns(go: string, disk: Key, tmpfs: Key): Column[] {
  const seconds = (v: number) => `${(v / 1000).toFixed(2)} s`;
  return [
    { key: disk, title: `go mod download, 300 mods (${go})`, format: seconds, compare: 'ratio' },
    { key: tmpfs, title: `go mod download, cache in tmpfs (${go})`, format: seconds, compare: 'ratio' },
  ];
}

/** A target: a figure of modgate as a ratio to, or a difference from, a baseline, or as is. */
interface Target {
  key: Key;
  measure: 'ratio' | 'added' | 'absolute';
  against: 'nginx' | 'direct';
  /** 'min': the value must be at least `bound`; 'max': at most. */
  kind: 'min' | 'max';
  bound: number;
}

const TARGETS: readonly Target[] = [
  { key: 'infoRps', measure: 'ratio', against: 'nginx', kind: 'min', bound: 0.5 },
  // "Added p99 ≤ 5 ms at 32 connections": what modgate adds to a request, so at a fixed rate
  // below saturation; at saturation p99 is queueing (32 connections ÷ throughput).
  { key: 'pacedP99Ms', measure: 'added', against: 'direct', kind: 'max', bound: 5 },
  { key: 'zip1mMbps', measure: 'ratio', against: 'nginx', kind: 'min', bound: 0.8 },
  { key: 'zip100mMbps', measure: 'ratio', against: 'nginx', kind: 'min', bound: 0.8 },
  { key: 'rssGrowthMb', measure: 'absolute', against: 'direct', kind: 'max', bound: 50 },
  { key: 'goDownloadMs', measure: 'ratio', against: 'direct', kind: 'max', bound: 1.15 },
  { key: 'goDownloadLegacyMs', measure: 'ratio', against: 'direct', kind: 'max', bound: 1.15 },
];

/** `≥ 0.50× nginx`, `≤ +5 ms over direct`, `≤ 50 MB`; and a value in the same form. */
function describe(t: Target, v: number): { text: string; value: string } {
  const op = t.kind === 'min' ? '≥' : '≤';
  if (t.measure === 'ratio') {
    return { text: `${op} ${t.bound.toFixed(2)}× ${t.against}`, value: `${v.toFixed(2)}×` };
  }
  if (t.measure === 'added')
    return { text: `${op} +${t.bound} ms over ${t.against}`, value: `+${v.toFixed(2)} ms` };
  return { text: `${op} ${t.bound} MB`, value: `${v.toFixed(1)} MB` };
}

/** The target's cell and, when missed, a line for the summary. */
function judge(t: Target, modgate: Figures, baseline: Figures): { cell: string; missed?: string } {
  const m = modgate[t.key];
  const b = baseline[t.key];
  const { text } = describe(t, 0);
  if (m === undefined || (t.measure !== 'absolute' && b === undefined))
    return { cell: `${text}: not measured` };
  const v = t.measure === 'ratio' ? m / b! : t.measure === 'added' ? m - b! : m;
  const ok = t.kind === 'min' ? v >= t.bound : v <= t.bound;
  const cell = `${text}: ${ok ? 'met' : 'MISSED'} (${describe(t, v).value})`;
  return ok ? { cell } : { cell, missed: `${t.key} ${cell}` };
}

function compareCell(column: Column, modgate: Figures, baseline: Figures): string {
  const m = modgate[column.key];
  const b = baseline[column.key];
  if (m === undefined || b === undefined || column.compare === 'none') return '—';
  if (column.compare === 'ratio') return `${(m / b).toFixed(2)}×`;
  return `${(m / b).toFixed(2)}× (${m - b >= 0 ? '+' : ''}${(m - b).toFixed(2)} ms)`;
}

const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

/**
 * The markdown table and whether every target was met. `modgate`, `nginx`
 * and `direct` name the rows compared.
 */
export function renderTable(
  rows: readonly Row[],
  names: { modgate: string; nginx: string; direct: string },
): { markdown: string; missed: string[] } {
  const figuresOf = (name: string): Figures => {
    const row = rows.find((r) => r.name === name);
    return row !== undefined && 'figures' in row ? row.figures : {};
  };
  const modgate = figuresOf(names.modgate);
  const nginx = figuresOf(names.nginx);
  const direct = figuresOf(names.direct);
  const out = [line(['contender', ...COLUMNS.map((c) => c.title)])];
  out.push(line(['---', ...COLUMNS.map(() => '---')]));
  for (const row of rows) {
    const cells =
      'notYet' in row
        ? COLUMNS.map(() => row.notYet)
        : COLUMNS.map((c) => {
            const v = row.figures[c.key];
            return v === undefined ? '—' : c.format(v, row.figures);
          });
    out.push(line([row.name, ...cells]));
  }
  out.push(line([`modgate ÷ ${names.nginx}`, ...COLUMNS.map((c) => compareCell(c, modgate, nginx))]));
  out.push(line([`modgate ÷ ${names.direct}`, ...COLUMNS.map((c) => compareCell(c, modgate, direct))]));
  const missed: string[] = [];
  const targetCells = COLUMNS.map((c) => {
    const t = TARGETS.find((t) => t.key === c.key);
    if (t === undefined) return '—';
    const verdict = judge(t, modgate, t.against === 'nginx' ? nginx : direct);
    if (verdict.missed !== undefined) missed.push(verdict.missed);
    return verdict.cell;
  });
  out.push(line(['target', ...targetCells]));
  return { markdown: out.join('\n'), missed };
}

/** The median of `xs` (the upper one of an even count). */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
