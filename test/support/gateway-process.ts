/**
 * Runs the real gateway (dist/gateway/src/cli.js) as a child process on
 * ephemeral ports, for end-to-end tests: kill -9, restart, real sockets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/launch.js';
import { gatewayCli } from './paths.js';

export interface GatewayProcess {
  proc: ChildProcess;
  mqttPort: number;
  statusPort: number;
  dataDir: string;
  configFile: string;
  /** status token (read from <dataDir>/status-token unless the config sets one) */
  token: string;
  logs: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGTERM and wait; resolves to the exit code */
  stop(): Promise<number | null>;
}

/** Every gateway a test started and did not stop: killed when the test process exits, so none leaks. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export function tempDir(prefix = 'tidegate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes the config (dataDir defaults to a new temp folder; ports default to 0) and starts the gateway. */
export async function startGateway(
  config: Record<string, unknown> = {},
  opts: { dataDir?: string; configFile?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<GatewayProcess> {
  const dataDir = opts.dataDir ?? tempDir();
  const full: Record<string, unknown> = {
    dataDir,
    ...config,
    mqtt: { port: 0, host: '127.0.0.1', ...((config.mqtt as object) ?? {}) },
    status: { port: 0, host: '127.0.0.1', ...((config.status as object) ?? {}) },
  };
  const configFile = opts.configFile ?? join(dataDir, 'tidegate.yaml');
  writeFileSync(configFile, stringify(full));
  const proc = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, gatewayCli, 'start', '--config', configFile], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  live.add(proc);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    }),
  );
  const started = await new Promise<{ mqttPort: number; statusPort: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start in time:\n${logs.slice(-20).join('\n')}`)),
      opts.timeoutMs ?? 15_000,
    );
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        if (line.includes('"tidegate started"')) {
          const j = JSON.parse(line) as { mqttPort: number; statusPort: number };
          clearTimeout(timer);
          resolve({ mqttPort: j.mqttPort, statusPort: j.statusPort });
        }
        nl = buf.indexOf('\n');
      }
    });
    proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before starting:\n${logs.slice(-20).join('\n')}`));
    });
  });
  let token = '';
  try {
    token = readFileSync(join(dataDir, 'status-token'), 'utf8').trim();
  } catch {
    token = String((full.status as { token?: string }).token ?? '');
  }
  return {
    proc,
    ...started,
    dataDir,
    configFile,
    token,
    logs,
    kill: async (signal = 'SIGKILL') => {
      proc.kill(signal);
      return exited;
    },
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}
