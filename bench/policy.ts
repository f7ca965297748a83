/**
 * bench/policy: decides module versions against a generated 1,000-rule policy
 * (groups, users, literal trees, globs in the first and later path elements,
 * version ranges, expiring exceptions, min_age and dry-run rules) and prints
 * decisions per second and the median and p99 time of one decision.
 * Target: median under 20 µs.
 *
 * Run: npm run bench:policy   (in-process, stops by itself)
 */
import { stringify } from 'yaml';
import { parsePolicy } from '../policies/load.ts';
import type { Query } from '../policies/types.ts';

/** Rules in the generated policy. */
const RULES = 1_000;
/** Distinct queries, decided round-robin. */
const QUERIES = 10_000;
/** Decisions before measuring, so the JIT has settled. */
const WARMUP = 100_000;
/** Decisions timed one by one (for median and p99). */
const TIMED = 300_000;
/** Decisions in the throughput run. */
const THROUGHPUT = 1_000_000;
/** Target median for one decision (µs). */
const TARGET_MEDIAN_US = 20;
/** Fixed evaluation time, so expiry and min_age are reproducible (2026-06-01). */
const NOW = Date.UTC(2026, 5, 1);
const HOUR_MS = 3_600_000;

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same policy. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(1);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (n: number) => Math.floor(rand() * n);

/** Rules by kind, in file order; each entry is the YAML object of one rule. */
function generateRules(): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [];
  const add = (rule: Record<string, unknown>) => rules.push({ name: `r${rules.length}`, ...rule });
  for (let i = 0; rules.length < RULES; i++) {
    const kind = i % 20;
    const team = int(50);
    const org = int(100);
    if (kind < 8) {
      add({
        subjects: [`group:team-${team}`],
        modules: [`git.corp.example/team-${team}/svc-${int(40)}`],
        action: 'allow',
      });
    } else if (kind < 11) {
      add({
        subjects: ['*'],
        modules: [`github.com/org-${org}/repo-${int(20)}@<1.${int(10)}.0`],
        action: 'deny',
        reason: `CVE-2024-${1000 + i}`,
      });
    } else if (kind < 14) {
      add({
        subjects: [`group:team-${team}`, `user:user-${int(200)}`],
        modules: [`github.com/org-${org}`],
        action: 'allow',
      });
    } else if (kind === 14) {
      add({
        subjects: [`group:team-${team}`],
        modules: [`github.com/org-${org}/*-internal`],
        action: 'deny',
      });
    } else if (kind === 15) {
      add({
        subjects: [`user:user-${int(200)}`],
        modules: [`github.com/org-${org}/repo-${int(20)}@v1.${int(10)}.0`],
        action: 'allow',
        expires: pick(['2026-01-31', '2026-12-31', '2027-06-30T12:00:00Z']),
      });
    } else if (kind === 16) {
      add({ subjects: ['*'], modules: [`*.corp-${int(30)}.example`], action: 'allow' });
    } else if (kind === 17) {
      add({
        subjects: [`group:team-${team}`],
        modules: [`github.com/org-${org}`],
        action: 'deny',
        min_age: '72h',
      });
    } else if (kind === 18) {
      add({
        subjects: ['*'],
        modules: [`golang.org/x/m${int(50)}@>=0.${int(5)}.0 <0.${5 + int(20)}.0`],
        action: 'deny',
      });
    } else {
      add({
        subjects: ['*'],
        modules: [`github.com/org-${org}/repo-${int(20)}`],
        action: 'deny',
        mode: 'dry-run',
      });
    }
  }
  return rules;
}

function generateQueries(): Query[] {
  const versions = [
    'v0.3.1',
    'v1.2.0',
    'v1.9.9',
    'v2.0.0+incompatible',
    'v1.4.1-0.20240102030405-0123456789ab',
  ];
  const modules = () =>
    pick([
      `git.corp.example/team-${int(50)}/svc-${int(40)}/pkg`,
      `github.com/org-${int(100)}/repo-${int(20)}`,
      `github.com/org-${int(100)}/x-internal/v2`,
      `golang.org/x/m${int(50)}`,
      `build.corp-${int(30)}.example/tool`,
      `example.com/unmatched-${int(1000)}`,
    ]);
  return Array.from({ length: QUERIES }, () => ({
    subject: { user: `user-${int(200)}`, groups: [`team-${int(50)}`, `team-${int(50)}`, 'everyone'] },
    module: modules(),
    version: pick(versions),
    publishedAt: new Date(NOW - int(200) * HOUR_MS),
    now: NOW,
  }));
}

function main(): number {
  const text = stringify({ default: 'deny', rules: generateRules() });
  const loadStart = performance.now();
  const loaded = parsePolicy('bench-policy.yaml', text, { now: NOW });
  const loadMs = performance.now() - loadStart;
  if (!loaded.ok) throw new Error(`generated policy is invalid: ${JSON.stringify(loaded.problems[0])}`);
  const { policy } = loaded;
  const queries = generateQueries();
  let denies = 0;
  for (let i = 0; i < WARMUP; i++) policy.decide(queries[i % QUERIES]!);

  const samples = new Float64Array(TIMED);
  for (let i = 0; i < TIMED; i++) {
    const q = queries[i % QUERIES]!;
    const t0 = process.hrtime.bigint();
    const d = policy.decide(q);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (d.action === 'deny') denies++;
  }
  samples.sort();

  const t0 = performance.now();
  for (let i = 0; i < THROUGHPUT; i++) policy.decide(queries[i % QUERIES]!);
  const seconds = (performance.now() - t0) / 1000;

  const median = samples[Math.floor(TIMED / 2)]!;
  const p99 = samples[Math.floor(TIMED * 0.99)]!;
  const perSecond = THROUGHPUT / seconds;
  console.log(
    `policy: ${policy.ruleCount} rules (${(text.length / 1024).toFixed(0)} KB), loaded in ${loadMs.toFixed(1)} ms`,
  );
  console.log(`queries: ${QUERIES} distinct, ${((100 * denies) / TIMED).toFixed(0)}% denied`);
  console.log('| decisions/s | median (µs) | p99 (µs) | target median < 20 µs |');
  console.log('| ----------- | ----------- | -------- | --------------------- |');
  const met = median < TARGET_MEDIAN_US ? 'met' : 'MISSED';
  console.log(
    `| ${Math.round(perSecond).toLocaleString('en-US').padStart(11)} | ${median.toFixed(2).padStart(11)} | ${p99.toFixed(2).padStart(8)} | ${met.padEnd(21)} |`,
  );
  console.log('(median and p99 are timed one decision at a time, including ~0.05 µs of timer overhead)');
  return met === 'met' ? 0 : 1;
}

process.exitCode = main();
