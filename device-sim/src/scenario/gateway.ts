/**
 * The gateway under test as a child process (dist/gateway/src/cli.js start):
 * started from a config file, killed with any signal, restarted on the same
 * MQTT port and data dir, and asked for its status over HTTP.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_NODE_FLAGS } from '../../../gateway/src/launch.js';

/** dist/device-sim/src/scenario/ -> dist/gateway/src/cli.js */
export const gatewayCli = fileURLToPath(new URL('../../../gateway/src/cli.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface SinkStatusView {
  name: string;
  backlogMessages: number;
  fillRatio: number;
  sent: number;
  dropped: Record<string, number>;
}

/** Children still alive when this process exits are killed, so a failed run leaks no gateway. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export class GatewayProcess {
  private proc: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  statusPort = 0;
  readonly logs: string[] = [];

  constructor(
    private readonly configFile: string,
    private readonly dataDir: string,
  ) {}

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    if (this.proc) return;
    const proc = spawn(
      process.execPath,
      [...GATEWAY_NODE_FLAGS, gatewayCli, 'start', '--config', this.configFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc = proc;
    live.add(proc);
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code) => {
        live.delete(proc);
        if (this.proc === proc) this.proc = null;
        resolve(code);
      }),
    );
    const remember = (line: string) => {
      this.logs.push(line);
      if (this.logs.length > 200) this.logs.shift();
    };
    proc.stderr!.on('data', (d: Buffer) => remember(d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${this.logs.slice(-20).join('\n')}`)),
        timeoutMs,
      );
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          remember(line);
          if (line.includes('"tidegate started"')) {
            this.statusPort = (JSON.parse(line) as { statusPort: number }).statusPort;
            clearTimeout(timer);
            resolve();
          }
        }
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code} while starting:\n${this.logs.slice(-20).join('\n')}`));
      });
    });
  }

  /** Sends the signal and waits for the exit; resolves to the exit code (null after a kill). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = this.proc;
    if (!p) return null;
    p.kill(signal);
    return this.exited;
  }

  async status(): Promise<{ sinks: SinkStatusView[] } | null> {
    if (!this.proc || !this.statusPort) return null;
    let token = '';
    try {
      token = readFileSync(join(this.dataDir, 'status-token'), 'utf8').trim();
    } catch {
      // a config with status.auth none, or its own token: try without
    }
    try {
      const res = await fetch(`http://127.0.0.1:${this.statusPort}/api/status`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(5000),
      });
      return res.ok ? ((await res.json()) as { sinks: SinkStatusView[] }) : null;
    } catch {
      return null;
    }
  }

  /** Waits until every sink's backlog is empty; false on timeout. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const s = await this.status();
      if (s?.sinks.every((k) => k.backlogMessages === 0)) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }
}
