/**
 * The module patterns of the policy's private routes, which a developer's
 * GONOSUMDB must cover: `modgate login` prints them with the go settings.
 *
 * The compiled policy keeps its routes as matchers only, so the patterns are
 * read from the policy file (the same reader `modgate doctor --policy` uses),
 * once per policy version; a file that no longer parses keeps the last answer.
 */
import { privateRoutePatterns } from '../checks/policy.ts';
import type { PolicyStore } from '../policy-store.ts';

export class PrivatePatterns {
  readonly #policies: PolicyStore;
  #version: string | undefined;
  #patterns: readonly string[] = [];

  constructor(policies: PolicyStore) {
    this.#policies = policies;
  }

  /** The private route patterns of the policy in force (empty when it has none). */
  async current(): Promise<readonly string[]> {
    const { version, file } = this.#policies.status;
    if (version === this.#version) return this.#patterns;
    const read = await privateRoutePatterns(file);
    if (read.ok) {
      this.#patterns = read.patterns;
      this.#version = version;
    }
    return this.#patterns;
  }
}
