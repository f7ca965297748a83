/**
 * The machine and software a bench ran on, for the report: CPU model and
 * count (/proc/cpuinfo), memory (/proc/meminfo, as `free -m` reports it),
 * kernel, Debian release, and the versions of Node and of the servers.
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { promisify } from 'node:util';
import { CLIENT_GOS } from '../../harness/go-binaries.ts';
import { cpuSeconds, TICKS_PER_S } from './processes.ts';

const execFileAsync = promisify(execFile);

/** First line a command prints on stdout or stderr, or "?" when it cannot run. */
async function versionOf(file: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { timeout: 10_000 });
    return `${stdout}${stderr}`.match(pattern)?.[1] ?? '?';
  } catch (err) {
    // `wrk -v` prints its version and exits 1.
    const out = err as { stdout?: string; stderr?: string };
    return `${out.stdout ?? ''}${out.stderr ?? ''}`.match(pattern)?.[1] ?? '?';
  }
}

/** One markdown paragraph describing the machine and the software versions. */
export async function describeMachine(): Promise<string> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8');
  const models = [...cpuinfo.matchAll(/^model name\s*:\s*(.+)$/gm)].map((m) => m[1]!.trim());
  const mhz = Math.round(Number(cpuinfo.match(/^cpu MHz\s*:\s*([\d.]+)/m)?.[1]));
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const memMb = Math.round(Number(meminfo.match(/^MemTotal:\s+(\d+) kB/m)?.[1]) / 1024);
  const debian = (await readFile('/etc/debian_version', 'utf8').catch(() => '?')).trim();
  const [nginx, wrk, slapd] = await Promise.all([
    versionOf('/usr/sbin/nginx', ['-v'], /nginx\/(\S+)/),
    versionOf('/usr/bin/wrk', ['-v'], /wrk (\S+)/),
    versionOf('/usr/sbin/slapd', ['-VV'], /slapd (\d+\.\d+\.\d+)/),
  ]);
  const go = CLIENT_GOS.map((g) => g.version.slice(2)).join(' and ');
  return [
    `Machine: ${models.length} vCPU ${models[0] ?? '?'} at ${mhz} MHz, ${memMb} MB RAM (free -m total), Linux ${release()}, Debian ${debian}.`,
    `Software: Node ${process.version}, nginx ${nginx}, wrk ${wrk}, go ${go}, OpenLDAP slapd ${slapd}.`,
  ].join('\n');
}

/**
 * CPU time of the whole machine so far (s), from /proc/stat: `busy` on
 * processes and the kernel (all but idle, iowait and steal), and `steal`, the
 * time the hypervisor gave this VM's virtual CPUs to someone else.
 */
async function machineSeconds(): Promise<{ busy: number; steal: number }> {
  const [user, nice, system, , , irq, softirq, steal] = (await readFile('/proc/stat', 'utf8'))
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // Interrupt ticks count too: the kernel charges them to whichever process was running.
  return {
    busy: (user! + nice! + system! + irq! + softirq!) / TICKS_PER_S,
    steal: (steal ?? 0) / TICKS_PER_S,
  };
}

/**
 * Starts counting CPU time: the returned function tells how much the whole
 * machine used since, how much this process and its children used (children
 * count once they have exited and been reaped: call it after stopping them),
 * and so how much other processes took from the run, and how much the
 * hypervisor took from the VM (steal: figures of a run with much of it are
 * disturbed however quiet the machine looked from inside).
 */
export async function startCpuAccounting(): Promise<() => Promise<string>> {
  const t0 = performance.now();
  const [m0, own0] = await Promise.all([machineSeconds(), cpuSeconds('self', true)]);
  return async () => {
    const [m, own] = await Promise.all([machineSeconds(), cpuSeconds('self', true)]);
    const capacity = ((performance.now() - t0) / 1000) * cpus().length;
    const other = Math.max(0, m.busy - m0.busy - (own - own0));
    const steal = m.steal - m0.steal;
    const share = (s: number) => `${((100 * s) / capacity).toFixed(0)}%`;
    return (
      `CPU: the bench's processes used ${(own - own0).toFixed(0)} CPU-s, other processes on the machine ` +
      `${other.toFixed(0)} CPU-s (${share(other)} of the ${capacity.toFixed(0)} available), the hypervisor ` +
      `(steal) ${steal.toFixed(0)} CPU-s (${share(steal)})`
    );
  };
}
