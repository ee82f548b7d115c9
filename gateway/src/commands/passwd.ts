/**
 * tidegate passwd add|remove|list FILE [USER]: manage the device credentials file
 * (scrypt hashes), like mosquitto_passwd. The password comes from the
 * TIDEGATE_PASSWORD environment variable or the first line of stdin, never argv
 * (argv is visible to every user in `ps`). The file is replaced atomically with
 * mode 0600; send SIGHUP to a running gateway to load it.
 */
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { Credentials, CredentialsError, hashPassword, USER_NAME } from '../broker/auth.js';
import type { Command } from './command.js';

async function readPassword(): Promise<string> {
  const env = process.env.TIDEGATE_PASSWORD;
  if (env !== undefined) return env;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function save(file: string, creds: Credentials): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, creds.serialize(), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

async function run(argv: string[]): Promise<number> {
  const [action, file, user] = argv;
  const usage = () => {
    process.stderr.write(`usage: tidegate ${passwdCommand.usage}\n`);
    return 2;
  };
  if (!file || !['add', 'remove', 'list'].includes(action ?? '')) return usage();
  try {
    const creds = existsSync(file) ? Credentials.load(file) : new Credentials();
    if (action === 'list') {
      for (const u of creds.users()) process.stdout.write(`${u}\n`);
      return 0;
    }
    if (!user) return usage();
    if (action === 'remove') {
      if (!creds.remove(user)) {
        process.stderr.write(`tidegate passwd: no user "${user}" in ${file}\n`);
        return 1;
      }
      save(file, creds);
      return 0;
    }
    if (!USER_NAME.test(user)) {
      process.stderr.write(`tidegate passwd: invalid user name "${user}" (no ":" or spaces, at most 128)\n`);
      return 2;
    }
    const password = await readPassword();
    if (password.length === 0) {
      process.stderr.write('tidegate passwd: empty password refused\n');
      return 2;
    }
    const existed = creds.has(user);
    creds.set(user, await hashPassword(password));
    save(file, creds);
    process.stderr.write(`${existed ? 'changed' : 'added'} ${user} in ${file}\n`);
    return 0;
  } catch (e) {
    if (e instanceof CredentialsError) {
      process.stderr.write(`tidegate passwd: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

export const passwdCommand: Command = {
  usage: 'passwd add|remove|list FILE [USER]',
  summary:
    'Manage the device credentials file (scrypt). add reads the password from $TIDEGATE_PASSWORD or stdin. SIGHUP reloads it.',
  run,
};
