/** Why a shared-state call was answered locally: the backend did not reply within the per-call bound. */
export class StateTimeoutError extends Error {
  override readonly name = 'StateTimeoutError';
  constructor(ms: number) {
    super(`no reply within ${ms} ms`);
  }
}

/**
 * Settles like `promise`, or rejects with StateTimeoutError after `ms`. A late
 * rejection of `promise` is consumed, so it never becomes an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StateTimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
