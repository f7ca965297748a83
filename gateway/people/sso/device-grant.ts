/**
 * The device authorization grant (RFC 8628), brokered: modgate asks the IdP
 * for a device and user code with its own client credentials, and later asks
 * the token endpoint once per `modgate login` poll. The client secret never
 * leaves the gateway; the CLI only ever talks to modgate.
 */
import type { JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { ModgateError } from '../../../core/errors.ts';
import { IdTokenVerifier } from './id-token.ts';
import type { SsoClient } from './oidc.ts';

/** The grant type of RFC 8628 §3.4. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Poll interval when the IdP names none (seconds; RFC 8628 §3.2). */
export const DEFAULT_POLL_INTERVAL_S = 5;
/** Longest device code accepted from a client (characters); IdP codes are far shorter. */
export const MAX_DEVICE_CODE_CHARS = 1024;

/** What `POST /_modgate/login/device` answers (RFC 8628 §3.2). */
export interface DeviceStart {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete: string | undefined;
  /** Seconds between polls. */
  readonly interval: number;
  /** Seconds until the codes expire. */
  readonly expires_in: number;
}

/** One poll's outcome: still waiting (`slow_down`: and poll less often), or approved with verified ID-token claims. */
export type DevicePoll =
  | { readonly state: 'authorization_pending' | 'slow_down' }
  | { readonly state: 'approved'; readonly claims: JWTPayload };

export class DeviceGrant {
  readonly #sso: SsoClient;
  readonly #idTokens = new IdTokenVerifier();

  constructor(sso: SsoClient) {
    this.#sso = sso;
  }

  /** Starts a device authorization at the IdP (RFC 8628 §3.1). */
  async start(): Promise<DeviceStart> {
    const config = await this.#sso.configuration();
    let answer: oidc.DeviceAuthorizationResponse;
    try {
      answer = await oidc.initiateDeviceAuthorization(config, {
        scope: this.#sso.settings.scopes.join(' '),
      });
    } catch (err) {
      throw fromIdpError(err);
    }
    return {
      device_code: answer.device_code,
      user_code: answer.user_code,
      verification_uri: answer.verification_uri,
      verification_uri_complete: answer.verification_uri_complete,
      interval: answer.interval ?? DEFAULT_POLL_INTERVAL_S,
      expires_in: answer.expires_in,
    };
  }

  /** One device access token request (RFC 8628 §3.4); no polling loop here, the CLI polls. */
  async poll(deviceCode: string): Promise<DevicePoll> {
    const config = await this.#sso.configuration();
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await oidc.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: deviceCode });
    } catch (err) {
      const oauthError = err instanceof oidc.ResponseBodyError ? err.error : undefined;
      if (oauthError === 'authorization_pending' || oauthError === 'slow_down') return { state: oauthError };
      throw fromIdpError(err);
    }
    if (tokens.id_token === undefined) {
      throw new ModgateError(
        'sso.login_failed',
        'the identity provider returned no ID token (does sso.scopes include openid?)',
      );
    }
    return { state: 'approved', claims: await this.#idTokens.verify(config, tokens.id_token) };
  }
}

/** Public reasons for the IdP's RFC 8628 §3.5 errors. */
export const DEVICE_REASONS = {
  access_denied: 'the sign-in was denied at the identity provider',
  expired_token: 'the code expired before it was approved; run modgate login again',
  invalid_grant: 'unknown or already used device code; run modgate login again',
} as const;

/** An openid-client failure as a ModgateError; the IdP's own words go to the log only. */
function fromIdpError(err: unknown): ModgateError {
  if (err instanceof ModgateError) return err;
  if (err instanceof oidc.ResponseBodyError) {
    const detail = { error: err.error, status: err.status, description: err.error_description };
    const known = DEVICE_REASONS[err.error as keyof typeof DEVICE_REASONS];
    if (known !== undefined) return new ModgateError('sso.login_failed', known, { cause: err, detail });
    return new ModgateError('sso.unavailable', 'the identity provider refused modgate’s request', {
      cause: err,
      detail,
    });
  }
  return new ModgateError('sso.unavailable', 'the identity provider is unavailable', { cause: err });
}
