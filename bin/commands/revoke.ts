import { parseArgs } from 'node:util';
import { adminCall } from './admin-api.ts';

export const REVOKE_USAGE = `usage: modgate revoke user <name> --url https://goproxy.corp --token-file FILE [--for 24h] [--lift] [--ca FILE]

Revokes a user at every gateway process within a second (through the admin API
and the shared state store): their cached credentials are dropped and every
request is refused until the revocation ends (--for) or is lifted (--lift).
The admin token is gateway.yaml's admin.token.`;

/** `modgate revoke user <name>`: calls the admin API of a running gateway. */
export async function revokeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'token-file': { type: 'string' },
      for: { type: 'string', default: '24h' },
      lift: { type: 'boolean', default: false },
      ca: { type: 'string' },
    },
    strict: true,
  });
  const [what, user] = positionals;
  if (
    what !== 'user' ||
    user === undefined ||
    values.url === undefined ||
    values['token-file'] === undefined
  ) {
    process.stderr.write(`${REVOKE_USAGE}\n`);
    return 2;
  }
  const { status, body } = await adminCall(
    { url: values.url, tokenFile: values['token-file'], caFile: values.ca },
    values.lift ? 'DELETE' : 'POST',
    '/_modgate/admin/revoke',
    values.lift ? { user } : { user, for: values.for },
  );
  if (status !== 200) {
    process.stderr.write(`modgate revoke: ${status} ${body.split('\n')[0]}\n`);
    return 1;
  }
  const answer = JSON.parse(body) as { user: string; revoked: boolean; until?: string };
  process.stdout.write(
    answer.revoked
      ? `revoked ${answer.user} until ${answer.until}\n`
      : `lifted the revocation of ${answer.user}\n`,
  );
  return 0;
}
