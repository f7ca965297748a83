/**
 * Writes policies/policy.schema.json from the zod schema in policies/schema.ts
 * (`npm run gen:policy-schema`). The file is committed so editors can check
 * and complete policy files (`# yaml-language-server: $schema=./policy.schema.json`);
 * test/policy-schema.test.ts fails when it is out of date.
 */
import { writeFile } from 'node:fs/promises';
import { renderPolicyJsonSchema } from '../policies/schema.ts';

const target = new URL('../policies/policy.schema.json', import.meta.url);
await writeFile(target, renderPolicyJsonSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
