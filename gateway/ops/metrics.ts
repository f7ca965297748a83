import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Directory } from '../../auth/directory.ts';
import type { CredentialKind } from '../../auth/jwt/credential-shape.ts';
import type { IdpCall } from '../../auth/jwt/issuer-keys.ts';
import { isModgateError } from '../../core/errors.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { StateStore } from '../state/store.ts';

/** Latency buckets for requests and dependency calls (seconds): 1 ms to 30 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** The `method` label of a failed authentication, from the credential's shape. */
function failedMethod(kind: CredentialKind | undefined): string {
  switch (kind) {
    case 'basic-password':
      return 'basic';
    case 'basic-jwt':
    case 'bearer-jwt':
      return 'jwt';
    case 'basic-pat':
    case 'bearer-pat':
      return 'pat';
    case 'basic-opaque':
    case 'bearer-opaque':
      return 'oidc';
    case 'missing':
      return 'none';
    default:
      return 'unrecognized';
  }
}

/** Circuit states as a gauge value. */
const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Prometheus metrics (prom-client), on their own registry. What an operator
 * needs to see: traffic by request kind, outcome and upstream; latency;
 * authentication results; directory (LDAP) calls, whose count against
 * authentications gives the cache hit ratio; policy reloads; breaker states.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'modgate_requests_total',
    help: 'Requests by GOPROXY kind, outcome, upstream and status code.',
    labelNames: ['kind', 'outcome', 'upstream', 'status'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'modgate_request_duration_seconds',
    help: 'Time from request to the end of the response, by GOPROXY kind.',
    labelNames: ['kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #auth = new Counter({
    name: 'modgate_auth_total',
    help: 'Authentication results by method (the directory is asked only on cache misses).',
    labelNames: ['method', 'result'] as const,
    registers: [this.registry],
  });
  readonly #directoryCalls = new Histogram({
    name: 'modgate_directory_call_duration_seconds',
    help: 'Password verifications and lookups that reached the directory (LDAP or users file), by result.',
    labelNames: ['directory', 'operation', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #stateCalls = new Histogram({
    name: 'modgate_state_call_duration_seconds',
    help: 'Calls to the state store (Redis or in-process) by operation.',
    labelNames: ['store', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #idpCalls = new Histogram({
    name: 'modgate_idp_call_duration_seconds',
    help: 'Calls to identity providers (OIDC discovery, JWKS, token introspection) by kind and result.',
    labelNames: ['call', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #policyDecisions = new Counter({
    name: 'modgate_policy_decisions_total',
    help: 'Policy decisions by enforced decision and dry-run outcome.',
    labelNames: ['decision', 'dry_run'] as const,
    registers: [this.registry],
  });
  readonly #policyReloads = new Counter({
    name: 'modgate_policy_reloads_total',
    help: 'Policy reloads by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #integrity = new Counter({
    name: 'modgate_integrity_results_total',
    help: 'Verified .mod and .zip files by file kind and result (verified, pinned, cached, mismatch, unverified).',
    labelNames: ['file', 'result'] as const,
    registers: [this.registry],
  });
  readonly #circuit = new Gauge({
    name: 'modgate_upstream_circuit_state',
    help: 'Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  readonly #ready = new Gauge({
    name: 'modgate_ready',
    help: '1 when every readiness check passes, else 0.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'modgate_process_' });
  }

  /**
   * Labelled children made once per label set: prom-client hashes the labels
   * on every `inc`/`observe` that passes them (a hot spot of the per-request
   * profile, BENCHMARKS.md). Label sets here are few (kinds × statuses × upstreams).
   */
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #durationChildren = new Map<string, { observe(v: number): void }>();

  /** One finished request (called where the audit record is written). */
  request(ctx: RequestContext): void {
    const kind = ctx.action ?? ctx.request?.kind ?? 'unrecognized';
    const outcome = ctx.error || ctx.status >= 400 ? 'failure' : 'success';
    const upstream = ctx.upstream ?? '';
    const status = String(ctx.status);
    const requestKey = `${kind}\0${outcome}\0${upstream}\0${status}`;
    let requests = this.#requestChildren.get(requestKey);
    if (requests === undefined) {
      requests = this.#requests.labels({ kind, outcome, upstream, status });
      this.#requestChildren.set(requestKey, requests);
    }
    requests.inc();
    let duration = this.#durationChildren.get(kind);
    if (duration === undefined) {
      duration = this.#duration.labels({ kind });
      this.#durationChildren.set(kind, duration);
    }
    duration.observe(Number(process.hrtime.bigint() - ctx.startedAt) / 1e9);
    if (ctx.identity) this.#auth.inc({ method: ctx.identity.method, result: 'ok' });
    else if (isModgateError(ctx.error) && ctx.error.code.startsWith('auth.')) {
      this.#auth.inc({ method: failedMethod(ctx.credential), result: ctx.error.code.slice('auth.'.length) });
    }
    const decision = ctx.policy?.decision;
    if (decision)
      this.#policyDecisions.inc({ decision: decision.action, dry_run: decision.dryRun?.action ?? '' });
  }

  idpCall(call: IdpCall, ms: number, ok: boolean): void {
    this.#idpCalls.observe({ call, result: ok ? 'ok' : 'failed' }, ms / 1000);
  }

  /** One `.mod` or `.zip` checked (or served unchecked) by gateway/integrity. */
  integrity(file: 'mod' | 'zip', result: 'verified' | 'pinned' | 'cached' | 'mismatch' | 'unverified'): void {
    this.#integrity.inc({ file, result });
  }

  policyReload(ok: boolean): void {
    this.#policyReloads.inc({ result: ok ? 'ok' : 'failed' });
  }

  circuit(upstream: string, state: keyof typeof CIRCUIT_VALUE): void {
    this.#circuit.set({ upstream }, CIRCUIT_VALUE[state]);
  }

  ready(ok: boolean): void {
    this.#ready.set(ok ? 1 : 0);
  }

  /**
   * Wraps a Redis state store so its calls are timed (they never reject: the
   * store falls back by itself). The in-process store is returned as it is:
   * its calls are map lookups, and timing them cost more than they do.
   */
  instrumentStore(store: StateStore): StateStore {
    if (store.kind === 'memory') return store;
    const timed =
      <A extends unknown[], T>(operation: string, call: (...args: A) => Promise<T>) =>
      async (...args: A): Promise<T> => {
        const end = this.#stateCalls.startTimer({ store: store.kind, operation });
        try {
          return await call(...args);
        } finally {
          end();
        }
      };
    return {
      kind: store.kind,
      get: timed('get', (k) => store.get(k)),
      read: timed('get', (k) => store.read(k)),
      set: timed('set', (k, v, ttl) => store.set(k, v, ttl)),
      delete: timed('delete', (k) => store.delete(k)),
      incrementWindow: timed('increment_window', (k, w) => store.incrementWindow(k, w)),
      acquire: timed('acquire', (k, l, ttl) => store.acquire(k, l, ttl)),
      publish: timed('publish', (c, m) => store.publish(c, m)),
      subscribe: (c, h, o) => store.subscribe(c, h, o),
      health: () => store.health(),
      close: () => store.close(),
    };
  }

  /** Wraps a directory so every call that reaches it is timed and counted. */
  instrument(directory: Directory): Directory {
    const timed = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
      const end = this.#directoryCalls.startTimer({ directory: directory.kind, operation });
      try {
        const value = await call();
        end({ result: 'ok' });
        return value;
      } catch (err) {
        end({ result: isModgateError(err) ? err.code : 'error' });
        throw err;
      }
    };
    return {
      kind: directory.kind,
      verifyPassword: (username, password) =>
        timed('verify', () => directory.verifyPassword(username, password)),
      lookup: (username) => timed('lookup', () => directory.lookup(username)),
      close: () => directory.close(),
    };
  }
}
