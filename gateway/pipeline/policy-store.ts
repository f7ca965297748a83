import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { ModgateError } from '../../core/errors.ts';
import { formatProblem } from '../../core/yaml-validate.ts';
import { parsePolicy } from '../../policies/load.ts';
import type { CompiledPolicy } from '../../policies/types.ts';

/** Quiet time after a file event before reloading (ms): editors write in several steps. */
const RELOAD_DEBOUNCE_MS = 100;
/** How often the file is also checked by polling (ms), for mounts where file events do not arrive. */
const RELOAD_POLL_MS = 1_000;
/** The fingerprint of a policy file that cannot be stat'ed (deleted, unmounted). */
const MISSING = 'missing';

/** Checks a parsed policy against the rest of the configuration (route names); returns problems. */
export type PolicyCheck = (policy: CompiledPolicy) => string[];

/** What `/_modgate/status` says about the policy. */
export interface PolicyStatus {
  readonly file: string;
  readonly version: string;
  readonly mode: 'enforce' | 'dry-run';
  readonly rules: number;
  readonly loaded_at: string;
  /** The last edit that failed to load (the previous policy stays in force), or null. */
  readonly last_error: { readonly at: string; readonly problems: readonly string[] } | null;
  readonly warnings: readonly string[];
}

/**
 * Holds the policy in force and reloads it live: the file's folder is watched
 * (editors and Kubernetes config maps replace files by rename) and polled as a
 * fallback. A reload validates and compiles the whole file, then swaps one
 * reference, so a request sees either the old or the new policy, never a mix.
 * A broken edit keeps the last good policy, is logged with its lines, and is
 * shown on the status endpoint until a good edit replaces it. A rejection is
 * logged once: the same problems again (a deleted file the poll keeps
 * seeing, a broken file saved again unchanged) log nothing new.
 */
export class PolicyStore {
  readonly #file: string;
  readonly #log: Logger;
  readonly #check: PolicyCheck;
  readonly #onReload: (ok: boolean) => void;
  #current: CompiledPolicy;
  #status: PolicyStatus;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #fingerprint = '';
  #reloading: Promise<void> = Promise.resolve();

  private constructor(
    file: string,
    log: Logger,
    check: PolicyCheck,
    onReload: (ok: boolean) => void,
    policy: CompiledPolicy,
    warnings: readonly string[],
  ) {
    this.#file = file;
    this.#log = log;
    this.#check = check;
    this.#onReload = onReload;
    this.#current = policy;
    this.#status = this.#statusOf(policy, warnings, null);
  }

  /** Loads the policy (a broken file is a start-up error) and starts watching it. */
  static async open(
    file: string,
    log: Logger,
    check: PolicyCheck = () => [],
    onReload: (ok: boolean) => void = () => {},
  ): Promise<PolicyStore> {
    const text = await readPolicyText(file);
    const parsed = parsePolicy(file, text);
    const lines = parsed.ok
      ? check(parsed.policy).map((p) => `${file}: ${p}`)
      : parsed.problems.map((p) => formatProblem(file, p));
    if (!parsed.ok || lines.length > 0) {
      throw new ModgateError('config.invalid', `${file}: ${lines.length} problem(s)\n${lines.join('\n')}`);
    }
    const store = new PolicyStore(file, log, check, onReload, parsed.policy, parsed.warnings);
    for (const warning of parsed.warnings) log.warn({ file }, `policy: ${warning}`);
    store.#fingerprint = await fingerprint(file);
    store.#watch();
    return store;
  }

  /** The policy in force. Take it once per request. */
  get current(): CompiledPolicy {
    return this.#current;
  }

  get status(): PolicyStatus {
    return this.#status;
  }

  /** Re-reads the file now (also what the watcher calls). Never throws. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(() => this.#reload());
    return this.#reloading;
  }

  close(): void {
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
  }

  async #reload(): Promise<void> {
    let text: string;
    try {
      this.#fingerprint = await fingerprint(this.#file).catch(() => MISSING);
      text = await readPolicyText(this.#file);
    } catch (err) {
      this.#fail([(err as Error).message]);
      return;
    }
    const parsed = parsePolicy(this.#file, text);
    if (!parsed.ok) {
      this.#fail(parsed.problems.map((p) => formatProblem(this.#file, p)));
      return;
    }
    const problems = this.#check(parsed.policy);
    if (problems.length > 0) {
      this.#fail(problems.map((p) => `${this.#file}: ${p}`));
      return;
    }
    if (parsed.policy.version === this.#current.version && this.#status.last_error === null) return;
    const previous = this.#current.version;
    this.#current = parsed.policy;
    this.#status = this.#statusOf(parsed.policy, parsed.warnings, null);
    this.#onReload(true);
    this.#log.info(
      {
        event: 'policy.reload',
        file: this.#file,
        previous,
        version: parsed.policy.version,
        rules: parsed.policy.ruleCount,
      },
      'policy reloaded',
    );
    for (const warning of parsed.warnings) this.#log.warn({ file: this.#file }, `policy: ${warning}`);
  }

  #fail(problems: string[]): void {
    const last = this.#status.last_error?.problems;
    if (last !== undefined && last.join('\n') === problems.join('\n')) return;
    this.#onReload(false);
    this.#status = { ...this.#status, last_error: { at: new Date().toISOString(), problems } };
    this.#log.error(
      { event: 'policy.reload_failed', file: this.#file, version: this.#current.version, problems },
      `policy edit rejected, keeping version ${this.#current.version}: ${problems[0] ?? ''}`,
    );
  }

  #watch(): void {
    const schedule = () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.reload(), RELOAD_DEBOUNCE_MS);
    };
    try {
      const name = basename(this.#file);
      this.#watcher = watch(dirname(this.#file), (_event, changed) => {
        // A config map swaps a `..data` link; other names in the folder are not ours.
        if (changed === null || changed === name || changed.startsWith('..')) schedule();
      });
      this.#watcher.on('error', (err) => this.#log.warn({ err }, 'policy watcher failed; polling only'));
    } catch (err) {
      this.#log.warn({ err }, 'cannot watch the policy folder; polling only');
    }
    this.#poll = setInterval(() => {
      void fingerprint(this.#file)
        .catch(() => MISSING)
        .then((now) => {
          if (now !== this.#fingerprint) schedule();
        });
    }, RELOAD_POLL_MS);
    this.#poll.unref();
  }

  #statusOf(
    policy: CompiledPolicy,
    warnings: readonly string[],
    lastError: PolicyStatus['last_error'],
  ): PolicyStatus {
    return {
      file: this.#file,
      version: policy.version,
      mode: policy.mode,
      rules: policy.ruleCount,
      loaded_at: new Date().toISOString(),
      last_error: lastError,
      warnings,
    };
  }
}

async function readPolicyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ModgateError(
      'config.invalid',
      `cannot read policy ${file}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
}

/** Changes when the file does (inode for rename-replace, size and mtime for in-place writes). */
async function fingerprint(file: string): Promise<string> {
  const s = await stat(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}
