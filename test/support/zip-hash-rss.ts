/**
 * Child process for test/checksum-zip-memory.test.ts. Arguments: a small
 * warm-up zip and its module, then the zip to measure, its module, and the
 * version of both. Hashes the warm-up zip, then the measured one, and prints
 * one JSON line: the measured zip's hash and how far the resident set grew
 * while hashing it (bytes), the highest of samples every few milliseconds and
 * of the kernel's peak when that pass raised it.
 *
 * The warm-up takes out what any first stream costs a fresh Node (code,
 * zlib and crypto set-up); it is small so it cannot hide a measured pass
 * that holds a large part of its zip. Even so, most of the growth left is
 * read buffers nothing references any more, which V8 collects only after
 * tens of MB of them (a plain fs stream of 200 MB into a hash grows about
 * 40 MB in a fresh process).
 */
import { zipHash } from '../../checksum/zip-hash.ts';

/** How often the resident set is sampled (milliseconds). */
const SAMPLE_MS = 5;

const [warmPath, warmModule, path, module, version] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const peak = () => process.resourceUsage().maxRSS * 1024;
await zipHash(warmPath, warmModule, version);
const before = process.memoryUsage().rss;
const peakBefore = peak();
let highest = before;
const sampler = setInterval(() => {
  highest = Math.max(highest, process.memoryUsage().rss);
}, SAMPLE_MS);
const hash = await zipHash(path, module, version);
clearInterval(sampler);
if (peak() > peakBefore) highest = Math.max(highest, peak());
process.stdout.write(`${JSON.stringify({ hash, growth: highest - before })}\n`);
