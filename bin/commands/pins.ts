import { parseArgs } from 'node:util';
import { adminCall } from './admin-api.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';

export const PINS_USAGE = `usage: modgate pins list [<module prefix>] --url https://goproxy.corp --token-file FILE [--ca FILE]
       modgate pins show <module>@<version> --url … --token-file FILE
       modgate pins forget <module>@<version> --url … --token-file FILE

What modgate recorded of module versions it served (integrity): the first-seen
time and the go.sum hashes of the .mod and .zip it verified or, for private
modules, pinned on first sight. "forget" drops a record and the verified files
(after a legitimate re-release): the next fetch pins it anew. Every call is
audited by the gateway. The admin token is gateway.yaml's admin.token.`;

/** `modgate pins list|show|forget`: calls the admin API of a running gateway. */
export async function pinsCommand(argv: string[], io: CommandIo = PROCESS_IO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' }, 'token-file': { type: 'string' }, ca: { type: 'string' } },
    strict: true,
  });
  const [verb, arg, ...rest] = positionals;
  const target = values.url &&
    values['token-file'] && { url: values.url, tokenFile: values['token-file'], caFile: values.ca };
  const at = arg?.lastIndexOf('@') ?? -1;
  const named =
    arg !== undefined && at > 0 ? { module: arg.slice(0, at), version: arg.slice(at + 1) } : undefined;
  const valid = verb === 'list' ? true : (verb === 'show' || verb === 'forget') && named !== undefined;
  if (!target || !valid || rest.length > 0) {
    io.err(`${PINS_USAGE}\n`);
    return 2;
  }
  const query: Record<string, string> =
    verb === 'list' ? { module: arg ?? '' } : { module: named!.module, version: named!.version };
  const { status, body } = await adminCall(
    target,
    verb === 'forget' ? 'DELETE' : 'GET',
    '/_modgate/admin/pins',
    query,
  );
  if (status !== 200) {
    io.err(`modgate pins: ${status} ${body.split('\n')[0]}\n`);
    return 1;
  }
  const answer = JSON.parse(body) as Record<string, unknown>;
  if (verb === 'list') {
    const pins = answer.pins as string[];
    io.out(pins.map((p) => `${p}\n`).join(''));
    if (answer.truncated) io.err('modgate pins: more than 1000; give a longer module prefix\n');
  } else if (verb === 'show') {
    for (const key of ['firstSeen', 'mod', 'zip']) {
      if (typeof answer[key] === 'string')
        io.out(`${key === 'firstSeen' ? 'first seen' : key}: ${answer[key]}\n`);
    }
  } else {
    io.out(answer.forgotten ? `forgot ${arg}\n` : `${arg} had no record\n`);
  }
  return 0;
}
