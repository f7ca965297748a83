/**
 * Cold-auth latency: the first request of a user the gateway has never seen
 * costs a directory round trip (service-account search + the user's own bind)
 * before the credential is cached. Fresh users are added to slapd for the
 * purpose (in the bench group, so the policy allows them), each asks once on
 * a new TLS connection; the same request by an already-cached user on a new
 * connection is the baseline, so the difference is the directory's share.
 */
import { GROUPS_DN, PEOPLE_DN } from '../../harness/directory-fixture.ts';
import { httpsGet } from '../../harness/https-client.ts';
import type { Slapd } from '../../harness/slapd.ts';
import { BENCH_GROUP } from './bench-policy.ts';

/** A directory user made for the bench. */
export interface BenchUser {
  name: string;
  password: string;
}

/** `n` users `bench-cold-00`… with their passwords (not yet in any directory). */
export function coldUsers(n: number): BenchUser[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `bench-cold-${String(i).padStart(2, '0')}`;
    return { name, password: `${name}-pw-7Rq` };
  });
}

/** Adds `users` to the fixture directory as inetOrgPerson entries in the bench group. */
export async function addDirectoryUsers(slapd: Slapd, users: readonly BenchUser[]): Promise<void> {
  const dn = (u: BenchUser) => `uid=${u.name},${PEOPLE_DN}`;
  const entries = users.map((u) =>
    [
      `dn: ${dn(u)}`,
      'changetype: add',
      'objectClass: inetOrgPerson',
      `uid: ${u.name}`,
      `cn: ${u.name}`,
      'sn: Bench',
      `userPassword: ${u.password}`,
    ].join('\n'),
  );
  const membership = [
    `dn: cn=${BENCH_GROUP},${GROUPS_DN}`,
    'changetype: modify',
    'add: member',
    ...users.map((u) => `member: ${dn(u)}`),
    '-',
  ].join('\n');
  await slapd.modify(`${[...entries, membership].join('\n\n')}\n`);
}

/** Time of one GET on a new connection (ms); throws unless it is answered 200. */
export async function timedFirstRequest(
  base: string,
  path: string,
  ca: string,
  user: BenchUser,
): Promise<number> {
  const t0 = performance.now();
  const res = await httpsGet(base, path, { ca, basic: [user.name, user.password] });
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${user.name} ${path}: ${res.status} ${res.text.split('\n')[0]}`);
  return ms;
}
