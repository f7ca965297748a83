import pino, { type Logger } from 'pino';
import { MAX_SHOWN_NAME_CHARS, shownName } from '../abuse/reason.ts';
import type { GatewaySettings } from '../config/settings.ts';
import { moduleOf, type RequestContext } from '../pipeline/context.ts';
import { openAuditFile } from './audit-file.ts';

/**
 * The audit trail: one JSON line per request, ECS field names, on its own
 * stream (stdout or a file), separate from the operational log.
 */
export interface AuditLog {
  record(ctx: RequestContext): void;
  /** Writes out anything buffered; call before exit. */
  flush(): void;
  /** Reopens the audit file (SIGHUP, after an external logrotate); a no-op on stdout. */
  reopen(): void;
}

export async function createAuditLog(sink: GatewaySettings['audit']): Promise<AuditLog> {
  const dest =
    sink.sink === 'file'
      ? await openAuditFile(sink.path, sink.rotateBytes, sink.keep)
      : pino.destination({ fd: 1, sync: false });
  const logger: Logger = pino(
    {
      base: null,
      messageKey: 'message',
      // No redaction pass: the event is built field by field below (auditEvent) and never
      // holds a header or secret; pino's redact cloned every record (100+ µs per request).
      // ECS `log.level`, as @elastic/ecs-pino-format writes it (pino needs a first field).
      formatters: { level: (label) => ({ log: { level: label } }) },
      // The event carries its own ECS @timestamp (pino's hook assumes a field before it).
      timestamp: false,
    },
    dest,
  );
  return {
    record: (ctx) => logger.info(auditEvent(ctx)),
    flush: () => dest.flushSync(),
    reopen: () => {
      if (sink.sink === 'file') dest.reopen();
    },
  };
}

/** The ECS-shaped audit event of a finished request. */
export function auditEvent(ctx: RequestContext): Record<string, unknown> {
  const mod = moduleOf(ctx.request, ctx.resolvedVersion);
  return {
    '@timestamp': new Date().toISOString(),
    event: {
      action: ctx.action ?? (ctx.request ? `goproxy.${ctx.request.kind}` : 'goproxy.unrecognized'),
      outcome: ctx.error || ctx.status >= 400 ? 'failure' : 'success',
      reason: ctx.error ? ctx.error.message : undefined,
      duration: Number(process.hrtime.bigint() - ctx.startedAt),
    },
    user: ctx.identity ? { name: ctx.identity.user, roles: ctx.identity.groups } : attempted(ctx.claimedUser),
    auth: ctx.identity ? { method: ctx.identity.method } : undefined,
    source: { ip: ctx.sourceIp },
    http: {
      request: { method: ctx.method },
      response: { status_code: ctx.status, body: { bytes: ctx.bytesSent } },
    },
    url: { path: ctx.path },
    module: mod.path === undefined ? undefined : mod,
    upstream:
      ctx.upstream === undefined
        ? undefined
        : { name: ctx.upstream, route: ctx.route, fallback_from: ctx.fellBackFrom },
    policy: ctx.policy === undefined ? undefined : policyFields(ctx),
    integrity: integrityFields(ctx),
    labels: ctx.adminTarget === undefined ? undefined : { target: ctx.adminTarget },
    trace: { id: ctx.id },
    // Which process served it: with `workers: N`, one of N cluster workers.
    process: { pid: process.pid },
  };
}

/**
 * `user.name` of a request that did not authenticate: the name its Basic
 * credential claimed, fit for a log line — control, format (bidi overrides,
 * zero-width), separator and lone surrogate characters removed, cut at
 * {@link MAX_SHOWN_NAME_CHARS} characters with `…`.
 */
function attempted(claimed: string | undefined): { name: string } | undefined {
  const name = shownName((claimed ?? '').replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, ''));
  return name === '' ? undefined : { name };
}

/** `policy.*`: the deciding rule, the enforced decision, the policy version, and what dry-run rules would have done. */
function policyFields(ctx: RequestContext): Record<string, unknown> | undefined {
  const p = ctx.policy;
  if (!p) return undefined;
  const { decision } = p;
  return {
    version: p.version,
    decision: decision.action,
    rule: decision.rule ?? 'default',
    filtered_versions: ctx.policyFiltered > 0 ? ctx.policyFiltered : undefined,
    dry_run: decision.dryRun
      ? { decision: decision.dryRun.action, rule: decision.dryRun.rule ?? 'default' }
      : undefined,
  };
}

/** What verifying a `.mod` / `.zip` found; a refusal for integrity is `outcome: failure` with its hashes. */
function integrityFields(ctx: RequestContext): Record<string, unknown> | undefined {
  if (ctx.integrity) return { ...ctx.integrity };
  const err = ctx.error;
  if (!err?.code.startsWith('integrity.') && !err?.code.startsWith('sumdb.')) return undefined;
  const detail = err.detail ?? {};
  const expected = detail.expected as { hash?: string; against?: string } | undefined;
  return {
    outcome: 'failure',
    code: err.code,
    hash: detail.hash,
    expected: expected?.hash,
    against: expected?.against,
  };
}
