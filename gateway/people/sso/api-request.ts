/**
 * Reading the small bodies of the login and token API (`modgate login` /
 * `logout`): POST only, JSON or an HTML-form body, a few KB at most. Every
 * refusal is a ModgateError with a one-line reason.
 */
import type { IncomingMessage } from 'node:http';
import { ModgateError } from '../../../core/errors.ts';
import { readBounded } from '../../../core/read-bounded.ts';
import type { RequestContext } from '../../pipeline/context.ts';

/** Largest body the API reads (bytes): a device code and a token name fit many times over. */
export const MAX_API_BODY_BYTES = 4 * 1024;

/** The string fields of a request body. */
export type ApiFields = Readonly<Record<string, string>>;

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Throws `request.method_not_allowed` unless the request is a POST. */
export function requirePost(ctx: RequestContext): void {
  if (ctx.method !== 'POST') {
    throw new ModgateError(
      'request.method_not_allowed',
      `method ${ctx.method.slice(0, 16)} not allowed here; use POST`,
    );
  }
}

/**
 * The body's string fields. An empty body is `{}` whatever its type; a body
 * must be JSON (an object whose values are strings) or a form. Bodies over
 * `limit` bytes are refused without reading them all.
 */
export async function readFields(req: IncomingMessage, limit = MAX_API_BODY_BYTES): Promise<ApiFields> {
  const type = mediaType(req.headers['content-type']);
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw tooLarge(limit);
  if (type !== undefined && type !== JSON_TYPE && type !== FORM_TYPE) {
    throw new ModgateError(
      'request.invalid',
      `content type ${type.slice(0, 64)} not accepted; send JSON or a form`,
    );
  }
  const text = await readText(req, limit);
  if (text === '') return {};
  if (type === FORM_TYPE) return Object.fromEntries(new URLSearchParams(text));
  if (type !== JSON_TYPE)
    throw new ModgateError('request.invalid', 'a request body needs a content type: JSON or a form');
  return jsonFields(text);
}

function jsonFields(text: string): ApiFields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ModgateError('request.invalid', 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModgateError('request.invalid', 'the request body must be a JSON object');
  }
  const fields: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new ModgateError('request.invalid', `field ${key.slice(0, 32)} must be a string`);
    }
    fields[key] = v;
  }
  return fields;
}

function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

function tooLarge(limit: number): ModgateError {
  return new ModgateError('request.invalid', `the request body is larger than ${limit} bytes`);
}

async function readText(req: IncomingMessage, limit: number): Promise<string> {
  // Reading stops at the first byte beyond the limit; the connection closes after the refusal.
  const read = await readBounded(req, limit, 'pause').catch((cause: unknown) => {
    throw new ModgateError('request.invalid', 'the request body could not be read', { cause });
  });
  if (read.over) throw tooLarge(limit);
  return read.bytes.toString('utf8');
}
