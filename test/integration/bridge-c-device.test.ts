/**
 * Two firmwares on two PTYs behind one bridge that finds its ports by glob:
 * the C reference example_device (built here with gcc) and the TypeScript
 * simulated firmware. Both reach the real gateway; a command reaches the C one.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bridge } from '../../firmware-bridge/src/bridge.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { repoRoot } from '../support/paths.js';
import { cborOf, gatewayConfig, mqttUrl, recordsOf, startBridge, waitFor } from './bridge-harness.js';

const fwDir = join(repoRoot, 'firmware-bridge', 'firmware');
const CFLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2'];

let gw: GatewayProcess;
let bridge: Bridge;
let deviceBin: string;
const ptys: PtyPair[] = [];

beforeAll(async () => {
  const build = mkdtempSync(join(tmpdir(), 'tidegate-cdev-'));
  deviceBin = join(build, 'example_device');
  execFileSync('gcc', [...CFLAGS, '-I.', 'example_device.c', 'tidegate_proto.c', '-o', deviceBin], {
    cwd: fwDir,
  });
  const dir = mkdtempSync(join(tmpdir(), 'tidegate-ptys-'));
  ptys.push(new PtyPair(join(dir, 'c-device'), join(dir, 'c-host')));
  ptys.push(new PtyPair(join(dir, 'ts-device'), join(dir, 'ts-host')));
  for (const p of ptys) await p.start();
  gw = await startGateway(gatewayConfig);
  bridge = await startBridge(mqttUrl(gw), [{ glob: join(dir, '*-host') }], {
    discovery: { interval: '200ms' },
  });
});

afterAll(async () => {
  await bridge?.stop();
  for (const p of ptys) await p.close();
  await gw?.stop();
});

function run(
  bin: string,
  args: string[],
): { proc: ChildProcess; out: string[]; exit: Promise<number | null> } {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  return { proc, out, exit: new Promise((r) => proc.once('exit', (code) => r(code))) };
}

describe('the C example device and the TypeScript firmware behind one bridge', () => {
  it('both publish through the bridge; the C device receives a command', async () => {
    await waitFor('both ports discovered and open', () => {
      const ports = bridge.status().ports;
      return ports.length === 2 && ports.every((p) => p.state === 'open');
    });
    const c = run(deviceBin, [
      '-d',
      'c-dev-1',
      '-n',
      '3',
      '-i',
      '50',
      '-l',
      '2500',
      '-s',
      '65534',
      ptys[0]!.devicePath,
    ]);
    const ts = new SimulatedFirmware({ path: ptys[1]!.devicePath, deviceId: 'ts-dev-1', ackTimeoutMs: 200 });
    await ts.open();
    expect((await ts.hello()).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect((await ts.sendData('demo/reading', { n: i })).ok).toBe(true);

    await waitFor(
      'C device session',
      () => bridge.status().ports.find((p) => p.device?.id === 'c-dev-1')?.device?.connected,
    );
    const op = await mqtt.connectAsync(mqttUrl(gw), { clientId: 'operator-c' });
    await op.publishAsync('devices/c-dev-1/commands/led/set', '{"on":true}', { qos: 1 });
    await op.endAsync();

    expect(await c.exit, c.out.join('')).toBe(0);
    await ts.close();
    const out = c.out.join('');
    // {"on": true} as CBOR: a1 62 6f 6e f5
    expect(out).toMatch(/COMMAND seq=\d+ topic=led\/set body=a1626f6ef5/);

    const cRecs = await waitFor('3 records of the C device', async () => {
      const r = await recordsOf(gw, 'c-dev-1');
      return r.length >= 3 ? r : null;
    });
    // seq started at 65534: HELLO 65534, DATA 65535, 0, 1 — across the wrap-around, none lost or doubled
    expect(cRecs.map((r) => (cborOf(r) as Map<string, unknown>).get('n'))).toEqual([0, 1, 2]);
    expect(cRecs.every((r) => r.topic === 'devices/c-dev-1/demo/reading')).toBe(true);
    const tsRecs = await waitFor('3 records of the TS device', async () => {
      const r = await recordsOf(gw, 'ts-dev-1');
      return r.length >= 3 ? r : null;
    });
    expect(tsRecs.map((r) => (cborOf(r) as Map<string, unknown>).get('n'))).toEqual([0, 1, 2]);
    const cPort = bridge.status().ports.find((p) => p.path.endsWith('c-host'))!;
    expect(cPort.counters.commandsAcked).toBe(1);
    expect(cPort.counters.published).toBe(3);
  });
});
