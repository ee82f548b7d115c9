/**
 * A throw-away PKI made with the openssl CLI: a CA, a server certificate for
 * 127.0.0.1, device certificates (CN = device id), one of them revoked in a CRL.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/gateway-process.js';

export interface Pki {
  dir: string;
  ca: string;
  crl: string;
  server: { cert: string; key: string };
  device(name: string): { cert: string; key: string };
  /** a second server certificate (other serial) to test reload */
  renewServer(): { cert: string; key: string };
}

export function makePki(devices: string[], revoked: string[]): Pki {
  const dir = tempDir('tidegate-pki-');
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(f('index.txt'), '');
  writeFileSync(f('crlnumber'), '01\n');
  writeFileSync(
    f('ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${f('index.txt')}\ncrlnumber = ${f('crlnumber')}\n` +
      `default_md = sha256\ndefault_crl_days = 30\n[v3]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n`,
  );
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=tidegate-test-ca',
  );
  const issue = (name: string, server: boolean) => {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    const ext = server ? ['-extfile', 'ca.cnf', '-extensions', 'v3'] : [];
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    );
    return { cert: f(`${name}.pem`), key: f(`${name}.key`) };
  };
  const server = issue('server', true);
  for (const d of devices) issue(d, false);
  for (const r of revoked)
    ssl('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem', '-revoke', `${r}.pem`);
  ssl('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem', '-gencrl', '-out', 'crl.pem');
  let renewals = 0;
  return {
    dir,
    ca: f('ca.pem'),
    crl: f('crl.pem'),
    server,
    device: (name) => ({ cert: f(`${name}.pem`), key: f(`${name}.key`) }),
    renewServer: () => {
      renewals++;
      const n = issue(`server${renewals}`, true);
      return n;
    },
  };
}
