/** One readiness check's result: what, whether it passed, and what to fix. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export type Check = () => Promise<CheckResult>;

/** How often readiness checks run in the background (ms). */
export const READINESS_INTERVAL_MS = 10_000;
/** Longest a single readiness check may take before it counts as failed (ms). */
export const READINESS_CHECK_TIMEOUT_MS = 5_000;

/** What /readyz answers. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly checked_at: string | null;
  readonly components: readonly CheckResult[];
}

/**
 * Readiness for a load balancer: the dependency checks (directory, each
 * upstream's probe module, the policy) run in the background on an interval —
 * never per probe request, so a flood of /readyz cannot load LDAP — and the
 * last results are served. Draining (graceful shutdown) makes it not ready at
 * once.
 */
export class Readiness {
  readonly #checks: readonly Check[];
  readonly #onChange: (ready: boolean) => void;
  #results: readonly CheckResult[] = [];
  #checkedAt: Date | undefined;
  #draining = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(checks: readonly Check[], onChange: (ready: boolean) => void = () => {}) {
    this.#checks = checks;
    this.#onChange = onChange;
  }

  /** Runs the checks once now, then every `intervalMs`. */
  async start(intervalMs = READINESS_INTERVAL_MS): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  refresh(): Promise<void> {
    this.#running ??= Promise.all(this.#checks.map(runBounded))
      .then((results) => {
        this.#results = results;
        this.#checkedAt = new Date();
        this.#onChange(this.report().ready);
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Graceful shutdown began: not ready from now on. */
  drain(): void {
    this.#draining = true;
    this.#onChange(false);
  }

  get draining(): boolean {
    return this.#draining;
  }

  report(): ReadinessReport {
    const ok = this.#checkedAt !== undefined && this.#results.every((r) => r.ok);
    return {
      ready: ok && !this.#draining,
      draining: this.#draining,
      checked_at: this.#checkedAt?.toISOString() ?? null,
      components: this.#results,
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function runBounded(check: Check): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          name: check.name || 'check',
          ok: false,
          detail: `no answer within ${READINESS_CHECK_TIMEOUT_MS} ms`,
        }),
      READINESS_CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      check().catch((err: unknown) => ({
        name: check.name || 'check',
        ok: false,
        detail: (err as Error).message,
      })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
