/**
 * Device credentials: a text file, one `user:hash` per line (like mosquitto_passwd),
 * hashes made with scrypt from node:crypto:
 *   `device-17:$scrypt$N=16384,r=8,p=1$<salt base64>$<key base64>`
 * Comments (#) and blank lines are kept out of the way. `tidegate passwd` manages it.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const KEY_LEN = 32;
const DEFAULT_COST = { N: 16384, r: 8, p: 1 };
const LINE = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;
export const USER_NAME = /^[^:\s#][^:\s]{0,127}$/;

function derive(password: Buffer | string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    // maxmem: N=16384, r=8 needs 16 MiB, just above Node's 32 MiB default only for larger N
    scrypt(password, salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost.N, cost.r, cost.p);
  return `$scrypt$N=${cost.N},r=${cost.r},p=${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export class CredentialsError extends Error {}

/** The users of one credentials file. */
export class Credentials {
  /** user -> hash line, in file order */
  private readonly entries: Map<string, string>;
  // Successful checks, keyed by a SHA-256 of user and password: a reconnect storm of
  // hundreds of devices must not cost hundreds of scrypt runs. Cleared on reload.
  private readonly verified = new Set<string>();
  // Unknown users are checked against this hash too, so they take as long as known ones.
  private dummy: string | null = null;

  constructor(entries: Map<string, string> = new Map()) {
    this.entries = entries;
  }

  static parse(text: string, file: string): Credentials {
    const entries = new Map<string, string>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const at = line.indexOf(':');
      const user = line.slice(0, at);
      const hash = line.slice(at + 1);
      if (at <= 0 || !USER_NAME.test(user) || !LINE.test(hash)) {
        throw new CredentialsError(`${file}:${i + 1}: expected "user:$scrypt$N=..,r=..,p=..$salt$key"`);
      }
      entries.set(user, hash);
    });
    return new Credentials(entries);
  }

  static load(file: string): Credentials {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CredentialsError(`cannot read the password file ${file}: ${(err as Error).message}`);
    }
    return Credentials.parse(text, file);
  }

  get size(): number {
    return this.entries.size;
  }

  users(): string[] {
    return [...this.entries.keys()];
  }

  has(user: string): boolean {
    return this.entries.has(user);
  }

  set(user: string, hash: string): void {
    if (!USER_NAME.test(user)) throw new CredentialsError(`invalid user name "${user}" (no ":" or spaces)`);
    this.entries.set(user, hash);
  }

  remove(user: string): boolean {
    return this.entries.delete(user);
  }

  serialize(): string {
    return [...this.entries].map(([u, h]) => `${u}:${h}\n`).join('');
  }

  async verify(user: string, password: Buffer | string): Promise<boolean> {
    const cacheKey = createHash('sha256').update(user).update('\0').update(password).digest('base64');
    if (this.verified.has(cacheKey)) return true;
    this.dummy ??= await hashPassword(randomBytes(16).toString('hex'));
    const line = this.entries.get(user) ?? this.dummy;
    const m = LINE.exec(line)!;
    const key = Buffer.from(m[5]!, 'base64');
    const got = await derive(
      password,
      Buffer.from(m[4]!, 'base64'),
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
    );
    const ok = this.entries.has(user) && got.length === key.length && timingSafeEqual(got, key);
    if (ok) this.verified.add(cacheKey);
    return ok;
  }
}
