/**
 * The bridge half of the package smoke test: the packaged tidegate-bridge
 * (emulated for arm64) opens one end of a socat PTY pair; the host's simulated
 * firmware (firmware-bridge/src/simulated-firmware.ts) on the other end sends
 * HELLO and one DATA frame, which must be ACKed, i.e. published to the packaged
 * gateway and PUBACKed after its commit (PROTOCOL.md: ACK only after PUBACK).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';

export async function checkBridge(
  runner: string[],
  opt: string,
  work: string,
  mqttPort: number,
  deviceId: string,
  marker: string,
): Promise<string> {
  const cli = join(opt, 'app/dist/firmware-bridge/src/cli.js');
  if (!existsSync(cli)) throw new Error(`the package has no bridge: ${cli} is missing`);
  const pty = await PtyPair.open(work, 'bridge');
  const config = join(work, 'bridge.yaml');
  writeFileSync(
    config,
    stringify({
      bridgeId: 'smoke-bridge',
      gateway: { url: `mqtt://127.0.0.1:${mqttPort}`, payload: 'json' },
      ports: [{ path: pty.hostPath, baudRate: 115200 }],
      status: { host: '127.0.0.1', port: 0 },
    }),
  );
  const [cmd, ...rest] = runner;
  const bridge: ChildProcess = spawn(cmd!, [...rest, cli, 'start', '--config', config], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  bridge.stdout!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  bridge.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => bridge.once('exit', (code) => resolve(code)));
  // emulated, the bridge answers slower than real hardware: a long first ACK timeout
  const fw = new SimulatedFirmware({
    path: pty.devicePath,
    deviceId,
    ackTimeoutMs: 5000,
    probeIntervalMs: 2000,
  });
  try {
    const started = await Promise.race([
      waitLog(logs, 'bridge started', 90_000),
      exited.then((code) => {
        throw new Error(`bridge exited with ${code}: ${logs.slice(-5).join(' | ')}`);
      }),
    ]);
    await fw.open();
    const hello = await fw.hello();
    if (!hello.ok) throw new Error(`HELLO not acked: ${JSON.stringify(hello)}`);
    const data = await fw.sendData('telemetry', { marker, t: 19.25 });
    if (!data.ok) throw new Error(`DATA not acked: ${JSON.stringify(data)}`);
    bridge.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`bridge exit code ${code} on SIGTERM`);
    return `${started ? 'started; ' : ''}HELLO and DATA acked in ${Math.round(data.elapsedMs)} ms (${data.tries} tries); exit 0 on SIGTERM`;
  } catch (e) {
    throw new Error(
      `${e instanceof Error ? e.message : String(e)}; bridge log: ${logs.slice(-5).join(' | ')}`,
    );
  } finally {
    await fw.close();
    if (bridge.exitCode === null) bridge.kill('SIGKILL');
    await pty.close();
  }
}

async function waitLog(logs: string[], text: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!logs.some((l) => l.includes(text))) {
    if (Date.now() > end) throw new Error(`no "${text}" log line within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
