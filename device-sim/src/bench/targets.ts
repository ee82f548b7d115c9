/**
 * The brokers a benchmark publishes to, each with the pid whose /proc numbers
 * are its cost: the gateway (child process, file sink, default durability),
 * the machine's Mosquitto on 127.0.0.1:1883 (found with `ss`), and plain aedes
 * (child process).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, GatewayProcess } from '../scenario/gateway.js';

export interface Target {
  name: string;
  url: string;
  /** topic pattern the devices publish to */
  topic: string;
  pid: number | null;
  close(): Promise<void>;
}

export async function gatewayTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'tidegate-bench-'));
  const port = await freePort();
  const configFile = join(dir, 'tidegate.yaml');
  writeFileSync(
    configFile,
    stringify({
      gatewayId: 'bench',
      dataDir: join(dir, 'data'),
      log: { level: 'info' },
      mqtt: { host: '127.0.0.1', port },
      status: { host: '127.0.0.1', port: 0 },
      sinks: { local: { type: 'file', path: join(dir, 'out') } },
      routes: { all: { from: 'devices/#', to: 'local' } },
    }),
  );
  const gw = new GatewayProcess(configFile, join(dir, 'data'));
  await gw.start();
  return {
    name: 'tidegate (SQLite fsync per commit + file sink)',
    url: `mqtt://127.0.0.1:${port}`,
    topic: 'devices/{device}/telemetry',
    pid: gw.pid,
    close: async () => {
      await gw.kill('SIGTERM');
    },
  };
}

/** The pid listening on a TCP port, from `ss -ltnp` (null if it cannot be seen). */
export function listenerPid(port: number): number | null {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString();
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export async function mosquittoTarget(): Promise<Target> {
  return {
    name: 'Mosquitto (127.0.0.1:1883, as installed)',
    url: 'mqtt://127.0.0.1:1883',
    // the shared broker: stay under our own prefix
    topic: 'tidegate-bench/{device}',
    pid: listenerPid(1883),
    close: async () => undefined,
  };
}

export async function aedesTarget(): Promise<Target> {
  const script = fileURLToPath(new URL('./aedes-child.js', import.meta.url));
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
    proc.once('exit', (code) => reject(new Error(`aedes child exited with ${code}`)));
  });
  return {
    name: 'plain aedes 1.2 (in-memory)',
    url: `mqtt://127.0.0.1:${port}`,
    topic: 'devices/{device}/telemetry',
    pid: proc.pid ?? null,
    close: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
