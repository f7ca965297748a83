/**
 * Dependency checks: one small function per thing modgate depends on (the
 * LDAP directory, each upstream, the policy file, its TLS certificate, …),
 * each answering the same plain value. `modgate check-config` prints them,
 * `/readyz` reports them per component and `modgate doctor` uses the same
 * shape for a developer's machine. Nothing here prints or logs.
 */

/** Default bound on one check, connecting included (ms). */
export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

/**
 * `ok`: works. `warn`: works, but something should be changed (the fix says
 * what). `skip`: not checked (not configured, or offline). `fail`: does not
 * work; modgate (or the go command) will fail because of it.
 */
export type CheckStatus = 'ok' | 'warn' | 'skip' | 'fail';

/** The outcome of one check. Never holds a secret. */
export interface CheckResult {
  /** The component: `config`, `tls`, `policy`, `ldap`, `upstream athens`, `redis`, `idp`, … */
  readonly name: string;
  /** What was checked, shown after the name: a URL, a file, a bind DN. */
  readonly target: string | undefined;
  readonly status: CheckStatus;
  /** False only for `fail`: what `/readyz` turns into 503. */
  readonly ok: boolean;
  /** One line: what was found. */
  readonly detail: string;
  /** One line: what to do about a fail or warn (a command where there is one). */
  readonly fix: string | undefined;
  /** Further lines (every problem of a broken file), printed below the result. */
  readonly more: readonly string[];
  /** Time the check took (ms). */
  readonly durationMs: number;
}

/** A check not run yet: `/readyz` and check-config run these, each bounded by {@link runChecks}. */
export interface Check {
  readonly name: string;
  readonly target: string | undefined;
  run(signal: AbortSignal): Promise<CheckOutcome>;
}

/** What a check function returns; {@link runChecks} adds name, target, `ok` and the duration. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string | undefined;
  readonly more?: readonly string[];
}

/** Shorthands for check functions. */
export const outcome = {
  ok: (detail: string): CheckOutcome => ({ status: 'ok', detail }),
  warn: (detail: string, fix: string, more: readonly string[] = []): CheckOutcome => ({
    status: 'warn',
    detail,
    fix,
    more,
  }),
  fail: (detail: string, fix: string | undefined, more: readonly string[] = []): CheckOutcome => ({
    status: 'fail',
    detail,
    fix,
    more,
  }),
  skip: (detail: string): CheckOutcome => ({ status: 'skip', detail }),
};

/** Turns an outcome into a result for `check`. */
export function resultOf(
  check: Pick<Check, 'name' | 'target'>,
  o: CheckOutcome,
  durationMs: number,
): CheckResult {
  return {
    name: check.name,
    target: check.target,
    status: o.status,
    ok: o.status !== 'fail',
    detail: o.detail,
    fix: o.fix,
    more: o.more ?? [],
    durationMs,
  };
}

/**
 * Runs checks concurrently, each bounded by `timeoutMs`: a check still
 * running then is a `fail` ("no answer within …") and its signal is aborted.
 * A check that throws is a `fail` with the error's message. Results come back
 * in the order of `checks`.
 */
export async function runChecks(
  checks: readonly Check[],
  timeoutMs: number = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<CheckResult[]> {
  return Promise.all(checks.map((c) => runOne(c, timeoutMs)));
}

async function runOne(check: Check, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(
        outcome.fail(
          `no answer within ${timeoutMs} ms`,
          `check that ${check.target ?? check.name} is running and reachable from here`,
        ),
      );
    }, timeoutMs);
  });
  const run = check
    .run(controller.signal)
    .catch(
      (err: unknown): CheckOutcome =>
        outcome.fail(`check failed: ${err instanceof Error ? err.message : String(err)}`, undefined),
    );
  try {
    const o = await Promise.race([run, deadline]);
    return resultOf(check, o, Math.round(performance.now() - started));
  } finally {
    clearTimeout(timer);
  }
}

/** The error code of a Node socket error (`ECONNREFUSED`, …) or TLS error, if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** TLS verification failures (OpenSSL's names, as Node reports them) and what they mean. */
export const TLS_VERIFY_ERRORS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its issuer is not a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its issuer is not a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'its issuer is not a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a CA that is not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed and not trusted',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet (check the clock)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not issued for this host name',
  CERT_REVOKED: 'it has been revoked',
};

/** A short reason for a socket or TLS failure: `ECONNREFUSED`, `certificate not trusted (…)`. */
export function describeSocketError(err: unknown): string {
  const code = errorCode(err);
  if (code !== undefined && code in TLS_VERIFY_ERRORS) {
    return `TLS certificate rejected: ${TLS_VERIFY_ERRORS[code]} (${code})`;
  }
  if (code !== undefined) return code;
  return err instanceof Error ? err.message : String(err);
}

/** Whether an error is a TLS certificate verification failure. */
export function isTlsVerifyError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && code in TLS_VERIFY_ERRORS;
}
