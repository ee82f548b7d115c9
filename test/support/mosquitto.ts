/** A private Mosquitto on a free port, for tests that must stop and restart the upstream broker. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './gateway-process.js';
import { freePort } from './ports.js';

export interface Mosquitto {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** users: name -> password; when given, anonymous access is off. */
export async function mosquitto(opts: { users?: Record<string, string> } = {}): Promise<Mosquitto> {
  const dir = tempDir('tidegate-mosquitto-');
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${opts.users ? 'false' : 'true'}`,
    'persistence false',
  ];
  if (opts.users) {
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    for (const [u, p] of Object.entries(opts.users)) execFileSync('mosquitto_passwd', ['-b', pw, u, p]);
    // mosquitto started as root drops to its own user before it reads the password file
    chmodSync(dir, 0o755);
    chmodSync(pw, 0o644);
    lines.push(`password_file ${pw}`);
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  let proc: ChildProcess | null = null;
  const m: Mosquitto = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
    },
    async stop() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
  };
  await m.start();
  return m;
}
