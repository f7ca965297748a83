import { z } from 'zod';
import { isValidPattern } from '../../core/gomod/path-match.ts';

/** The checksum database the go command uses by default, with its published verifier key. */
export const DEFAULT_CHECKSUM_DATABASE = {
  name: 'sum.golang.org',
  key: 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
  url: 'https://sum.golang.org',
} as const;

/** Default size limit of the verified cache. */
export const DEFAULT_INTEGRITY_CACHE_SIZE = '10GB';

const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** A size of the config (`500MB`, `10GB`) in bytes; the schema checked its form. */
export function sizeBytes(text: string): number {
  const unit = /[A-Z]+$/.exec(text)?.[0] ?? 'B';
  return Number.parseInt(text, 10) * (SIZE_UNITS[unit] ?? 1);
}

const size = z.string().regex(/^\d+(B|KB|MB|GB|TB)$/, 'a size such as 500MB, 10GB or 1TB');

/**
 * The `integrity:` section of gateway.yaml: `.mod` and `.zip` served only
 * when their go.sum hash is what the checksum database (public modules) or
 * the first fetch (private and pinned modules) says (gateway/integrity).
 */
export const integritySchema = z
  .strictObject({
    mode: z
      .enum(['off', 'warn', 'enforce'])
      .default('enforce')
      .describe(
        '`enforce`: refuse (502, nothing of the body sent) what does not verify, and (503) what cannot be verified now; `warn`: log, audit and serve it; `off`: forward unchecked.',
      ),
    checksum_database: z
      .strictObject({
        name: z.string().min(1).describe('Its name, as in GOSUMDB.'),
        key: z
          .string()
          .regex(/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/, 'a verifier key, <name>+<hash>+<key>')
          .describe('Its verifier key (`<name>+<hash>+<key>`), as in GOSUMDB.'),
        url: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe('Where to ask it; default `https://<name>`. May be an upstream’s `/sumdb/<name>` proxy.'),
      })
      .superRefine((db, ctx) => {
        if (!db.key.startsWith(`${db.name}+`))
          ctx.addIssue({
            code: 'custom',
            path: ['key'],
            message: `the key names ${db.key.split('+')[0]}, not ${db.name}`,
          });
      })
      .prefault(DEFAULT_CHECKSUM_DATABASE)
      .describe(
        'The checksum database public modules are verified against, as the go command does (signed tree head, inclusion proof from tiles, consistency with the last accepted tree head).',
      ),
    pin: z
      .array(z.string().refine(isValidPattern, 'a GOPRIVATE-style glob, e.g. git.corp/*'))
      .default([])
      .describe(
        'Modules pinned on first sight although their route is public (GOPRIVATE globs). Private routes are always pinned.',
      ),
    cache: z
      .strictObject({
        dir: z
          .string()
          .min(1)
          .default('.modgate/verified')
          .describe('The folder (relative paths: from the config file’s folder).'),
        max_size: size
          .prefault(DEFAULT_INTEGRITY_CACHE_SIZE)
          .describe('Size limit, e.g. `10GB`; the least recently used files go first.'),
      })
      .prefault({})
      .describe(
        'Verified `.mod` and `.zip` files kept on local disk and served from there; workers share the folder.',
      ),
    first_seen_cooldown: z
      .boolean()
      .default(true)
      .describe(
        '`min_age` counts from the later of the `.info` Time and modgate’s first sight of the version (a new tag on an old commit is young). At roll-out every version is first seen then.',
      ),
    records_dir: z
      .string()
      .min(1)
      .default('.modgate/records')
      .describe(
        'Folder of first-seen times and pinned hashes when the state store is in memory. With Redis they are kept in Redis, durable only with AOF or RDB there.',
      ),
  })
  .prefault({});

export type IntegrityConfig = z.output<typeof integritySchema>;
