import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModgateError } from '../../core/errors.ts';
import { checkPath } from '../../core/gomod/module.ts';
import { isValid } from '../../core/gomod/semver.ts';
import type { Integrity } from '../integrity/integrity.ts';
import { writeJson } from '../pipeline/respond.ts';

/** Most pins one list answer names. */
const MAX_LISTED = 1000;

/**
 * `/_modgate/admin/pins` (admin token checked by the caller): `GET ?module=<prefix>`
 * lists the module versions with a record, `GET ?module=&version=` shows one,
 * `DELETE ?module=&version=` forgets it (record and kept files). Resolves
 * the audit target (`module@version` or the prefix) to `target` before acting.
 */
export async function servePins(
  req: IncomingMessage,
  res: ServerResponse,
  integrity: Integrity | undefined,
  target: (name: string) => void,
): Promise<void> {
  if (!integrity) throw new ModgateError('request.not_found', 'integrity is off: there are no pins');
  const query = new URL(req.url ?? '/', 'http://modgate').searchParams;
  const module = query.get('module') ?? '';
  const version = query.get('version');
  if (req.method === 'GET' && version === null) {
    target(module === '' ? '*' : `${module}*`);
    const names = await integrity.records.list(module, MAX_LISTED + 1);
    writeJson(res, { pins: names.slice(0, MAX_LISTED), truncated: names.length > MAX_LISTED });
    return;
  }
  const named = checkedTarget(module, version ?? '');
  target(named.name);
  if (req.method === 'GET') {
    const record = await integrity.records.get(named.module, named.version);
    if (!record) throw new ModgateError('request.not_found', `${named.name} has no record`);
    writeJson(res, { module: named.module, version: named.version, ...record });
  } else if (req.method === 'DELETE') {
    writeJson(res, {
      module: named.module,
      version: named.version,
      forgotten: await integrity.forget(named.module, named.version),
    });
  } else {
    throw new ModgateError('request.method_not_allowed', 'use GET to list or show, DELETE to forget');
  }
}

function checkedTarget(module: string, version: string) {
  try {
    checkPath(module);
  } catch {
    throw new ModgateError('request.invalid', 'module= must be a module path');
  }
  if (!isValid(version)) throw new ModgateError('request.invalid', 'version= must be a semantic version');
  return { module, version, name: `${module}@${version}` };
}
