import { type Check, type CheckResult, runChecks } from '../../core/check.ts';

/**
 * How often readiness checks run in the background (ms). A dependency that
 * stops answering turns /readyz 503 within this plus the check's own time (a
 * refused connection fails at once), so 2 s keeps the promise of 503 within
 * 5 s; the cost is one LDAP bind and one upstream `@v/list` per process
 * every 2 s.
 */
export const READINESS_INTERVAL_MS = 2_000;
/**
 * How often the checks run while one fails (ms), so a dependency that comes
 * back turns /readyz 200 within about half a second, whenever it returns;
 * each round is one connection attempt per failing dependency.
 */
export const READINESS_FAILING_INTERVAL_MS = 500;

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
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(checks: readonly Check[], onChange: (ready: boolean) => void = () => {}) {
    this.#checks = checks;
    this.#onChange = onChange;
  }

  /** Runs the checks once now, then every `intervalMs`, or every `failingIntervalMs` while one fails. */
  async start(
    intervalMs = READINESS_INTERVAL_MS,
    failingIntervalMs = READINESS_FAILING_INTERVAL_MS,
  ): Promise<void> {
    await this.refresh();
    const next = (): void => {
      if (this.#stopped) return;
      const failing = this.#results.some((r) => !r.ok);
      this.#timer = setTimeout(
        () => void this.refresh().finally(next),
        failing ? failingIntervalMs : intervalMs,
      );
      this.#timer.unref();
    };
    next();
  }

  refresh(): Promise<void> {
    this.#running ??= runChecks(this.#checks)
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
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
