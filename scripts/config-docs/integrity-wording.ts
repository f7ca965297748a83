/**
 * The reference wording of the `integrity:` keys, which differs from the
 * `.describe()` texts in gateway/integrity/config.ts (the integrity work
 * wrote both; this is what docs/configuration.md has said). Kept here only
 * until that file carries this wording: it is not edited from the config
 * refactor. Then delete this file; `renderConfigReference` needs nothing
 * else.
 */
export const INTEGRITY_WORDING: Readonly<Record<string, string>> = {
  'integrity.mode':
    '`enforce`: refuse (502, nothing of the body sent) what does not verify, and (503) what cannot be verified now; `warn`: log, audit and serve it; `off`: forward unchecked.',
  'integrity.checksum_database':
    'The checksum database public modules are verified against, as the go command does (signed tree head, inclusion proof from tiles, consistency with the last accepted tree head).',
  'integrity.checksum_database.name': 'Its name, as in GOSUMDB.',
  'integrity.checksum_database.key': 'Its verifier key (`<name>+<hash>+<key>`), as in GOSUMDB.',
  'integrity.checksum_database.url':
    'Where to ask it; default `https://<name>`. May be an upstream’s `/sumdb/<name>` proxy.',
  'integrity.pin':
    'Modules pinned on first sight although their route is public (GOPRIVATE globs). Private routes are always pinned.',
  'integrity.cache':
    'Verified `.mod` and `.zip` files kept on local disk and served from there; workers share the folder.',
  'integrity.cache.dir': 'The folder (relative paths: from the config file’s folder).',
  'integrity.cache.max_size': 'Size limit, e.g. `10GB`; the least recently used files go first.',
  'integrity.records_dir':
    'Folder of first-seen times and pinned hashes when the state store is in memory. With Redis they are kept in Redis, durable only with AOF or RDB there.',
};
