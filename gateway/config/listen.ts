import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { TrustedProxies } from '../pipeline/client-ip.ts';
import { type ConfigCtx, secretAt, secretRef } from './secrets.ts';

/** The `listen:` and `tls:` sections of gateway.yaml: where the GOPROXY server listens, and its certificate. */

/** Default listen port for the HTTPS server. */
export const DEFAULT_PORT = 8443;
/** Default time a client gets from connecting until its request headers are complete (TLS handshake included). */
export const DEFAULT_HEADERS_TIMEOUT = '20s';

export const listenSchema = z
  .strictObject({
    host: z
      .string()
      .default('127.0.0.1')
      .describe('Interface to bind; `0.0.0.0` or `::` for every interface.'),
    port: z
      .int()
      .min(0)
      .max(65535)
      .default(DEFAULT_PORT)
      .describe('TCP port; `0` picks a free one (tests). `modgate serve --port` overrides it.'),
    /** The URL clients use (for hints and the banner), e.g. https://goproxy.corp. */
    public_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'The URL developers put in `GOPROXY`; used in hints and the start banner, and check-config warns when the certificate does not name its host.',
      ),
    /** Load balancers whose X-Forwarded-For is believed (CIDRs); empty: the socket peer is the client. */
    trusted_proxies: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "CIDRs of load balancers whose `X-Forwarded-For` is believed for `source.ip`, lockouts and audit; empty: the socket's peer is the client.",
      ),
    /** Slow or silent clients (slowloris) are cut after this; 1s to 5m (Node's whole-request timeout). */
    headers_timeout: durationMs
      .refine((ms) => ms >= 1000, 'must be at least 1s')
      .refine((ms) => ms <= 300_000, 'must be at most 5m')
      .prefault(DEFAULT_HEADERS_TIMEOUT)
      .describe(
        'How long a client may take from connecting to the end of its request headers (the TLS handshake, then the headers, each get this long); a slow or silent connection is then closed with 408 (slowloris). Checked every second.',
      ),
  })
  .prefault({})
  .describe('Where the GOPROXY server listens (https, or http behind a TLS terminator).');

/** Cross-field rules of `listen:` (run once the whole file has its shape). */
export function listenRules(listen: z.output<typeof listenSchema>, ctx: ConfigCtx): void {
  for (const p of TrustedProxies.problems(listen.trusted_proxies)) {
    ctx.addIssue({
      code: 'custom',
      path: ['listen', 'trusted_proxies', String(p.index)],
      message: p.message,
    });
  }
}

/** `listen:` as the server takes it; durations in milliseconds. */
export const listenSettingsSchema = listenSchema.transform((listen) => ({
  host: listen.host,
  port: listen.port,
  publicUrl: listen.public_url,
  trustedProxies: listen.trusted_proxies,
  /** From connecting until the request headers are complete (ms). */
  headersTimeoutMs: listen.headers_timeout,
}));

export const tlsSchema = z
  .union([
    z.strictObject({
      cert: secretRef.describe('PEM certificate chain (leaf first).'),
      key: secretRef.describe('PEM private key of the certificate.'),
    }),
    z.strictObject({
      /** Serve plain HTTP because a TLS terminator sits in front. go sends credentials only over https. */
      behind_tls_terminator: z
        .literal(true)
        .meta(
          unsafe(
            true,
            'plain http: a TLS terminator must sit in front, go sends credentials only over https',
          ),
        )
        .describe(
          'Serve plain http because a TLS terminator (load balancer, ingress) sits in front; warned about at start and by check-config.',
        ),
    }),
  ])
  .describe(
    'The server certificate. Either `cert` + `key`, or `behind_tls_terminator: true`. The go command sends credentials only over https.',
  );

/** The certificate and key (PEM), or plain http behind a TLS terminator (written out: no key tells them apart). */
type Tls = { readonly cert: string; readonly key: string } | { readonly behindTlsTerminator: true };

/** `tls:` with the certificate and key read (PEM). */
export const tlsSettingsSchema = tlsSchema.transform(
  (tls, ctx): Tls =>
    'cert' in tls
      ? { cert: secretAt(ctx, tls.cert, ['cert']), key: secretAt(ctx, tls.key, ['key']) }
      : { behindTlsTerminator: true as const },
);

export type ListenSettings = z.output<typeof listenSettingsSchema>;
export type TlsSettings = z.output<typeof tlsSettingsSchema>;
