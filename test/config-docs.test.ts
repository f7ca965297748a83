/**
 * docs/configuration.md is generated from gateway/config/schema.ts
 * (`npm run gen:config-docs`): it must be what the generator writes now, and
 * the generator must refuse a schema key without a description.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gatewayConfigSchema } from '../gateway/config/schema.ts';
import { CONFIG_DOCS_PATH, DESCRIPTIONS, renderConfigReference } from '../scripts/gen-config-docs.ts';

const committed = () => readFile(new URL(`../${CONFIG_DOCS_PATH}`, import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  it('is up to date with the schema (run npm run gen:config-docs)', async () => {
    expect(await committed()).toBe(renderConfigReference());
  });

  it('has a section for every top-level key of gateway.yaml', async () => {
    const text = await committed();
    for (const key of Object.keys(gatewayConfigSchema.shape)) expect(text).toContain(`## \`${key}\``);
  });

  it('shows types, defaults and required keys as the schema has them', async () => {
    const text = await committed();
    expect(text).toContain('| `shutdown_timeout` | duration | `30s` |');
    expect(text).toContain('| `directory.ldap.bind_password` | secret ref | **required** |');
    expect(text).toContain(
      '| `upstreams.<name>.kind` | `athens` \\| `artifactory` \\| `dir` | **required** |',
    );
    expect(text).toMatch(
      /\| `upstreams\.<name>\.repository` \| string \| \*\*required\*\* \| `kind: artifactory` \|/,
    );
    expect(text).toContain('| `listen.port` | integer 0–65535 | `8443` |');
  });

  it('refuses a schema key that has no description', () => {
    const extended = gatewayConfigSchema.extend({ new_setting: z.boolean().default(false) });
    expect(() => renderConfigReference(extended)).toThrow(/no description for new_setting/);
  });

  it('refuses a description of a key the schema no longer has', () => {
    expect(() => renderConfigReference(gatewayConfigSchema, { ...DESCRIPTIONS, 'listen.gone': 'x' })).toThrow(
      /description for listen\.gone, which the schema no longer has/,
    );
  });
});
