import type { z } from 'zod';
import type { gatewaySettingsSchema } from './schema.ts';

/**
 * The gateway's runtime settings: `gateway.yaml` validated, defaults applied,
 * secrets resolved, paths made absolute, durations in milliseconds. Frozen.
 * The types are those of the section schemas (gateway/config/schema.ts).
 */
export type GatewaySettings = Readonly<z.output<typeof gatewaySettingsSchema>> & {
  /** One warning line (`file:line: warning: unsafe setting …`) per opt-in unsafe setting that is on. */
  readonly unsafeSettings: readonly string[];
};

/** Single sign-on for people (browser login, `modgate login`); see gateway/people/sso/config.ts. */
export type SsoSettings = NonNullable<GatewaySettings['sso']>;
