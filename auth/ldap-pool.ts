/**
 * A small pool of ldapts connections, each prepared once (TLS, and the service
 * bind for search connections) and reused until it drops.
 *
 * Every connection owns exactly one socket: ldapts would otherwise reconnect a
 * dropped connection by itself, unbound (searches then run anonymously) and,
 * after StartTLS, in plain text (a user's password would be sent in clear).
 * Here a dropped connection fails its operation and is replaced by a new,
 * freshly prepared one.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Client, ResultCodeError } from 'ldapts';
import { ModgateError } from '../core/errors.ts';

/** How to reach the server; see `LdapDirectoryOptions`. */
export interface LdapConnectionOptions {
  url: string;
  startTls: boolean;
  tls?: { ca?: string; insecureSkipVerify?: boolean };
  timeoutMs: number;
}

/** Readies a new connection (e.g. the service bind) before its first use. */
export type PrepareConnection = (client: Client) => Promise<void>;

/**
 * Converts a foreign (ldapts, socket, TLS) error into `auth.directory_unavailable`.
 * ModgateErrors pass through unchanged.
 */
export function toDirectoryUnavailable(err: unknown, operation: string): ModgateError {
  if (err instanceof ModgateError) return err;
  const detail: Record<string, unknown> = {
    operation,
    error: err instanceof Error ? err.message : String(err),
  };
  if (err instanceof ResultCodeError) detail.ldapResultCode = err.code;
  return new ModgateError('auth.directory_unavailable', 'the user directory is unavailable', {
    cause: err,
    detail,
  });
}

/** TLS settings for ldaps:// and StartTLS: the given CA, verification unless explicitly skipped. */
function tlsOptions(options: LdapConnectionOptions, host: string): tls.ConnectionOptions {
  return {
    host,
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
    ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
    rejectUnauthorized: options.tls?.insecureSkipVerify !== true,
  };
}

/** A client whose connection factories work once each (see the module comment). */
async function connect(options: LdapConnectionOptions): Promise<Client> {
  const url = new URL(options.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = tlsOptions(options, host);
  let plainUsed = false;
  let tlsUsed = false;
  const client = new Client({
    url: options.url,
    timeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    // ldapts treats any tlsOptions as "connect with TLS": only for ldaps://.
    ...(url.protocol === 'ldaps:' ? { tlsOptions: secure } : {}),
    createConnection: ((...args: Parameters<typeof net.connect>) => {
      if (plainUsed) throw unavailable('reconnect', 'connection dropped; a new one is made instead');
      plainUsed = true;
      return net.connect(...args);
    }) as typeof net.connect,
    createSecureConnection: ((...args: Parameters<typeof tls.connect>) => {
      if (tlsUsed) throw unavailable('reconnect', 'connection dropped; a new one is made instead');
      tlsUsed = true;
      return tls.connect(...args);
    }) as typeof tls.connect,
  });
  try {
    // ldapts bounds the StartTLS request but not the TLS handshake after it.
    if (options.startTls) await withTimeout(client.startTLS(secure), options.timeoutMs, 'StartTLS');
    return client;
  } catch (err) {
    await discard(client);
    throw err;
  }
}

/** `promise`, or `auth.directory_unavailable` after `ms` milliseconds. */
async function withTimeout<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(unavailable(operation, `no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a client, bounded (by the operation timeout) and without throwing. */
async function discard(client: Client): Promise<void> {
  await client.unbind().catch(() => undefined);
}

/** Throws `auth.directory_unavailable` for a pool-level failure. */
function unavailable(operation: string, error: string): ModgateError {
  return new ModgateError('auth.directory_unavailable', 'the user directory is unavailable', {
    detail: { operation, error },
  });
}

/**
 * At most `size` connections; callers beyond that wait for one, up to the
 * operation timeout. A connection that is no longer connected (or, with
 * `requireBound`, no longer bound) is replaced before use.
 */
export class LdapPool {
  readonly #options: LdapConnectionOptions;
  readonly #size: number;
  readonly #prepare: PrepareConnection;
  readonly #requireBound: boolean;
  readonly #idle: Client[] = [];
  readonly #inUse = new Set<Client>();
  readonly #waiters: Array<() => void> = [];
  #busy = 0;
  #closed = false;

  constructor(
    options: LdapConnectionOptions,
    size: number,
    prepare: PrepareConnection,
    requireBound: boolean,
  ) {
    this.#options = options;
    this.#size = size;
    this.#prepare = prepare;
    this.#requireBound = requireBound;
  }

  /**
   * Runs `operation` (one idempotent request: a search or a bind) on a ready
   * connection. If a reused connection dropped under it, the operation is
   * retried once on a new connection, so a directory restart costs no failed
   * request; a timeout can thus take twice `timeoutMs`. Foreign errors are
   * passed through for the caller to convert.
   */
  async use<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    await this.#acquireSlot();
    let client: Client | undefined;
    try {
      for (let attempt = 0; ; attempt += 1) {
        if (this.#closed) throw unavailable('acquire connection', 'directory closed');
        const ready = await this.#ready();
        client = ready.client;
        this.#inUse.add(client);
        try {
          return await operation(client);
        } catch (err) {
          if (client.isConnected || ready.fresh || attempt > 0) throw err;
          this.#inUse.delete(client);
          await discard(client);
          client = undefined;
        }
      }
    } finally {
      this.#release(client);
    }
  }

  /** Closes every connection; later operations fail with `auth.directory_unavailable`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#waiters.splice(0)) wake();
    const clients = [...this.#idle.splice(0), ...this.#inUse];
    this.#inUse.clear();
    await Promise.all(clients.map(discard));
  }

  #usable(client: Client): boolean {
    return this.#requireBound ? client.isBound : client.isConnected;
  }

  /**
   * An idle connection that is still usable, or a new prepared one (a plain
   * ldap:// connection without StartTLS only connects on its first operation).
   */
  async #ready(): Promise<{ client: Client; fresh: boolean }> {
    for (let idle = this.#idle.pop(); idle !== undefined; idle = this.#idle.pop()) {
      if (this.#usable(idle)) return { client: idle, fresh: false };
      await discard(idle);
    }
    const client = await connect(this.#options);
    try {
      await this.#prepare(client);
    } catch (err) {
      await discard(client);
      throw err;
    }
    return { client, fresh: true };
  }

  #release(client: Client | undefined): void {
    if (client !== undefined) {
      this.#inUse.delete(client);
      if (this.#closed || !this.#usable(client)) void discard(client);
      else this.#idle.push(client);
    }
    this.#busy -= 1;
    this.#waiters.shift()?.();
  }

  /** Waits for one of the `size` slots, up to the operation timeout. */
  async #acquireSlot(): Promise<void> {
    while (!this.#closed && this.#busy >= this.#size) {
      const woken = await new Promise<boolean>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(wake), 1);
          resolve(false);
        }, this.#options.timeoutMs);
        this.#waiters.push(wake);
      });
      if (!woken) throw unavailable('acquire connection', 'all pooled LDAP connections busy');
    }
    if (this.#closed) throw unavailable('acquire connection', 'directory closed');
    this.#busy += 1;
  }
}
