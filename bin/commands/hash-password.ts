import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { hashPassword } from '../../auth/password-hash.ts';

export const HASH_PASSWORD_USAGE = `usage: modgate hash-password < password-file
       modgate hash-password            (prompts, without echo)

Prints an argon2id hash for the password_hash field of a users file.`;

/** `modgate hash-password`: read a password (stdin or a hidden prompt), print its argon2id hash. */
export async function hashPasswordCommand(_argv: string[]): Promise<number> {
  const password = process.stdin.isTTY ? await prompt('Password: ') : await readAll();
  if (password === '') {
    process.stderr.write('modgate: empty password\n');
    return 1;
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
