import { z } from 'zod';
import { configPath, optionalSecretAt, secretAt, secretRef } from '../config/secrets.ts';

/** The `audit:`, `log:`, `metrics:` and `admin:` sections of gateway.yaml: what operators see and use. */

/** Default size at which the audit file is rotated. */
export const DEFAULT_AUDIT_ROTATE_SIZE = '100MB';
/** Default number of rotated audit files kept. */
export const DEFAULT_AUDIT_KEEP = 10;

export const auditSchema = z
  .discriminatedUnion('sink', [
    z.strictObject({
      sink: z.literal('stdout').describe('`stdout` (collected by the container runtime) or `file`.'),
    }),
    z.strictObject({
      sink: z.literal('file'),
      path: z.string().min(1).describe('The audit file.'),
      /** Rotate when the file passes this size, e.g. 100MB; 0 = never (use logrotate + SIGHUP). */
      rotate_size: z
        .string()
        .regex(/^\d+(B|KB|MB|GB)$/, 'a size such as 500KB, 100MB or 1GB (0B = never)')
        .default(DEFAULT_AUDIT_ROTATE_SIZE)
        .describe(
          'Rotate when the file passes this size (`500KB`, `100MB`, `1GB`); `0B`: never (logrotate + SIGHUP).',
        ),
      /** Rotated files kept (audit.log.1 … audit.log.N). */
      keep: z
        .int()
        .min(0)
        .max(1000)
        .default(DEFAULT_AUDIT_KEEP)
        .describe('Rotated files kept (`audit.log.1` … `audit.log.N`).'),
    }),
  ])
  .default({ sink: 'stdout' })
  .describe('The audit trail: one ECS JSON line per request (see docs/operations.md, "The audit log").');

const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;

/** `100MB` → bytes (the schema checked the shape). */
function parseSize(text: string): number {
  const m = /^(\d+)(B|KB|MB|GB)$/.exec(text);
  return m ? Number(m[1]) * SIZE_UNITS[m[2] as keyof typeof SIZE_UNITS] : 0;
}

/** `audit:` with the file's path made absolute and its rotation size in bytes. */
export const auditSettingsSchema = auditSchema.transform((audit) =>
  audit.sink === 'file'
    ? {
        sink: 'file' as const,
        path: configPath(audit.path),
        rotateBytes: parseSize(audit.rotate_size),
        keep: audit.keep,
      }
    : audit,
);

export const logSchema = z
  .strictObject({
    level: z
      .enum(['trace', 'debug', 'info', 'warn', 'error'])
      .default('info')
      .describe('Least severe level written.'),
  })
  .prefault({})
  .describe('The operational log (JSON on stderr; auth events carry `stream: "auth"`).');

/** Prometheus metrics on a listener of their own (plain http; keep it on a private interface). */
export const metricsSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('Interface to bind; keep it private.'),
    port: z.int().min(0).max(65535).describe('TCP port (9464 is the Prometheus convention).'),
    /** Optional bearer token the scraper must send. */
    token: secretRef.optional().describe('Optional bearer token the scraper must send.'),
  })
  .optional()
  .describe('Prometheus metrics (`GET /metrics`) on a plain-http listener of their own; off when absent.');

/** `metrics:` with the scraper's token read. */
export const metricsSettingsSchema = metricsSchema.transform((metrics, ctx) =>
  metrics === undefined
    ? undefined
    : { host: metrics.host, port: metrics.port, token: optionalSecretAt(ctx, metrics.token, ['token']) },
);

/** The admin API (`POST /_modgate/admin/revoke`), enabled by a bearer token. */
export const adminSchema = z
  .strictObject({ token: secretRef.describe('The bearer token the admin API requires.') })
  .optional()
  .describe(
    'The admin API (`POST`/`DELETE /_modgate/admin/revoke`, `/_modgate/admin/pins` for `modgate pins`); off when absent.',
  );

/** `admin:` with its token read. */
export const adminSettingsSchema = adminSchema.transform((admin, ctx) =>
  admin === undefined ? undefined : { token: secretAt(ctx, admin.token, ['token']) },
);
