import { ModgateError } from '../../core/errors.ts';
import { basicAuthorization, type CredentialProvider } from './credential.ts';

/** A fixed upstream credential: Basic `username:password` or a Bearer token. */
export type StaticCredentialOptions =
  | { readonly name: string; readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly name: string; readonly scheme: 'bearer'; readonly token: string };

/** RFC 6750 section 2.1 `b64token`: what a Bearer token may contain. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Control characters, which no header value may carry. */
const CONTROL = /\p{Cc}/u;

/**
 * The same `Authorization` value for every subject (Athens' one basic-auth
 * user, a shared read-only Artifactory user or token). The value is built
 * once, at construction; bad input is `config.invalid` with a message that
 * names the credential and the field, never the secret.
 */
export class StaticCredential implements CredentialProvider {
  readonly kind = 'static';
  readonly name: string;
  readonly #value: string;
  #closed = false;

  constructor(options: StaticCredentialOptions) {
    this.name = options.name;
    this.#value = StaticCredential.#build(options);
  }

  async authorization(): Promise<string> {
    if (this.#closed) throw new ModgateError('internal', `credential ${this.name} is closed`);
    return this.#value;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  static #build(options: StaticCredentialOptions): string {
    const invalid = (what: string) =>
      new ModgateError('config.invalid', `credential ${options.name}: ${what}`);
    if (options.scheme === 'bearer') {
      if (!B64TOKEN.test(options.token))
        throw invalid('token is empty or holds characters a Bearer token cannot');
      return `Bearer ${options.token}`;
    }
    const { username, password } = options;
    if (username === '' || username.includes(':') || CONTROL.test(username))
      throw invalid('username must be non-empty, without colons or control characters (RFC 7617)');
    if (password === '' || CONTROL.test(password))
      throw invalid('password must be non-empty, without control characters');
    return basicAuthorization(username, password);
  }
}
