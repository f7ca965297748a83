import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { stringify } from 'yaml';
import { settingsFromYaml } from '../../gateway/config/load.ts';
import type { GatewaySettings } from '../../gateway/config/settings.ts';
import { type AuditLog, createAuditLog } from '../../gateway/ops/audit.ts';
import { createOperationalLog } from '../../gateway/ops/log.ts';
import { type RunningGateway, startGateway } from '../../gateway/server.ts';
import type { TestPki } from '../../harness/tls.ts';

/** How long a test waits for audit lines to appear (ms). */
const AUDIT_WAIT_MS = 5_000;

export interface TestGateway extends RunningGateway {
  readonly settings: GatewaySettings;
  readonly configPath: string;
  readonly auditPath: string;
  readonly logPath: string;
  /** Audit records written so far (flushes first). */
  auditRecords(): Promise<Record<string, unknown>[]>;
  /** Waits until at least `count` audit records exist, then returns them all. */
  waitForAudit(count: number): Promise<Record<string, unknown>[]>;
  logText(): Promise<string>;
}

/**
 * Starts a gateway in this process from a real gateway.yaml (written to `dir`
 * and loaded through the real config loader), with TLS from the test PKI,
 * the audit trail and the operational log in files the test can read.
 * `config` holds the YAML keys besides listen/tls/audit; without an
 * `integrity` key, integrity is off (test stacks have no checksum database;
 * the integrity tests give theirs).
 */
export async function startTestGateway(
  dir: string,
  pki: TestPki,
  config: Record<string, unknown>,
): Promise<TestGateway> {
  const configPath = join(dir, 'gateway.yaml');
  const auditPath = join(dir, 'audit.log');
  const logPath = join(dir, 'modgate.log');
  const yaml = stringify({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
    audit: { sink: 'file', path: auditPath },
    log: { level: 'debug' },
    integrity: { mode: 'off' },
    ...config,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(configPath, yaml);
  const settings = settingsFromYaml(configPath, yaml);
  const audit: AuditLog = await createAuditLog(settings.audit);
  const log = createOperationalLog('debug', pino.destination({ dest: logPath, sync: true }));
  const gateway = await startGateway(settings, { audit, log });
  const auditRecords = async () => {
    audit.flush();
    const text = await readFile(auditPath, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return {
    ...gateway,
    settings,
    configPath,
    auditPath,
    logPath,
    auditRecords,
    async waitForAudit(count) {
      const deadline = Date.now() + AUDIT_WAIT_MS;
      for (;;) {
        const records = await auditRecords();
        if (records.length >= count || Date.now() > deadline) return records;
        await delay(20);
      }
    },
    logText: () => readFile(logPath, 'utf8').catch(() => ''),
  };
}

/** Writes a secret to a file and returns its `file:` reference for gateway.yaml. */
export async function secretFile(dir: string, name: string, value: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return `file:${path}`;
}
