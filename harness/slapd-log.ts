/**
 * Reading slapd's `stats` log (loglevel 256): which DNs bound, on which
 * connection, with which result. Lines look like
 * `6b0240be.2747abdb 0x7f13 conn=1001 op=0 BIND dn="uid=alice,..." method=128`
 * followed by `... conn=1001 op=0 RESULT tag=97 err=0 qtime=... text=`.
 */

/** One simple bind in slapd's stats log. */
export interface BindRecord {
  /** The connection: `conn=<n>` in one log; `Slapd.binds` prefixes the run (`1:conn=1003`). */
  readonly conn: string;
  readonly dn: string;
  /** The LDAP result code (0 success, 49 invalid credentials). */
  readonly err: number;
}

/**
 * Simple binds in a stats log: a `conn=N op=M BIND dn="..." method=128` line
 * and its `conn=N op=M RESULT tag=97 err=E` line.
 */
export function parseBinds(log: string): BindRecord[] {
  const pending = new Map<string, string>();
  const binds: BindRecord[] = [];
  for (const line of log.split('\n')) {
    const bind = /\b(conn=\d+) (op=\d+) BIND dn="(.*)" method=128\b/.exec(line);
    if (bind !== null) pending.set(`${bind[1]} ${bind[2]}`, bind[3]!);
    const result = /\b(conn=\d+) (op=\d+) RESULT tag=97 err=(\d+)\b/.exec(line);
    const key = result === null ? undefined : `${result[1]} ${result[2]}`;
    const dn = key === undefined ? undefined : pending.get(key);
    if (key !== undefined && dn !== undefined) {
      pending.delete(key);
      binds.push({ conn: key.split(' ')[0]!, dn, err: Number(result?.[3]) });
    }
  }
  return binds;
}

/** DNs compared as slapd logs them: case and spaces after commas do not matter. */
export function sameDn(a: string, b: string): boolean {
  const norm = (dn: string) => dn.replace(/,\s+/g, ',').toLowerCase();
  return norm(a) === norm(b);
}
