/** Runs the real `tidegate-bridge` CLI as a child process (not a test file). */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BridgeStatus } from '../../firmware-bridge/src/status.js';
import { distDir } from '../support/paths.js';

export { type PromFamily, parsePrometheus } from '../support/prometheus.js';

export const bridgeCli = join(distDir, 'firmware-bridge/src/cli.js');

export interface BridgeProcess {
  proc: ChildProcess;
  statusPort: number;
  logs: string[];
  status(): Promise<BridgeStatus>;
  metrics(): Promise<string>;
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function startBridgeProcess(
  dir: string,
  config: Record<string, unknown>,
): Promise<BridgeProcess> {
  const file = join(dir, 'bridge.yaml');
  writeFileSync(file, stringify({ status: { port: 0 }, ...config }));
  const proc = spawn(process.execPath, [bridgeCli, 'start', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    }),
  );
  const statusPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bridge did not start:\n${logs.join('\n')}`)), 15_000);
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        if (line.includes('"bridge started"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { statusPort: number }).statusPort);
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bridge exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  const base = `http://127.0.0.1:${statusPort}`;
  return {
    proc,
    statusPort,
    logs,
    status: async () => (await (await fetch(`${base}/status`)).json()) as BridgeStatus,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}
