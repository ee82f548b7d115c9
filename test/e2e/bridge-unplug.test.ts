/**
 * Unplug and replug: the PTY pair is destroyed (socat killed: both ends hang
 * up, the device path vanishes) and made again at the same paths. The bridge
 * process notices, reopens with backoff, and the device's next session works.
 * Its counters are readable as JSON and as Prometheus text throughout.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { gatewayConfig, recordsOf, sleep, waitFor } from '../integration/bridge-harness.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { type BridgeProcess, parsePrometheus, startBridgeProcess } from './bridge-support.js';

let gw: GatewayProcess;
let bridge: BridgeProcess;
let pty: PtyPair;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidegate-unplug-'));
  gw = await startGateway(gatewayConfig);
  pty = new PtyPair(join(dir, 'dev'), join(dir, 'host'));
  await pty.start();
  bridge = await startBridgeProcess(dir, {
    gateway: { url: `mqtt://127.0.0.1:${gw.mqttPort}` },
    ports: [{ path: pty.hostPath, baudRate: 921600 }],
    reopen: { initialDelay: '100ms', maxDelay: '800ms' },
  });
});

afterAll(async () => {
  await bridge?.stop();
  await pty?.close();
  await gw?.stop();
});

async function session(n: number): Promise<SimulatedFirmware> {
  const sim = new SimulatedFirmware({ path: pty.devicePath, deviceId: 'unplug-1', ackTimeoutMs: 1000 }); // 200 ms retransmitted HELLOs under a loaded CI machine
  await sim.open();
  expect((await sim.hello()).ok).toBe(true);
  for (let i = 0; i < 3; i++) expect((await sim.sendData('count', { session: n, i })).ok).toBe(true);
  return sim;
}

describe('bridge process: serial device unplugged and plugged back', () => {
  it('reopens the port with backoff and serves the next session', async () => {
    await waitFor('port open', async () => (await bridge.status()).ports[0]?.state === 'open');
    const first = await session(1);

    await pty.close(); // unplug
    await first.close();
    const down = await waitFor('port lost', async () => {
      const p = (await bridge.status()).ports[0]!;
      return p.state !== 'open' ? p : null;
    });
    expect(down.device).toBeNull();
    await sleep(1500); // several failed reopen attempts while the device is away
    const away = (await bridge.status()).ports[0]!;
    expect(away.openFailures).toBeGreaterThan(0);
    expect(away.state).toBe('waiting');

    await pty.start(); // replug: same path, new /dev/pts
    await waitFor('port reopened', async () => (await bridge.status()).ports[0]?.opens === 2, 5000);
    const second = await session(2);
    await second.close();

    const recs = await waitFor('6 records', async () => {
      const r = await recordsOf(gw, 'unplug-1');
      return r.length >= 6 ? r : null;
    });
    expect(recs).toHaveLength(6);
    const s = await bridge.status();
    expect(s.totals).toMatchObject({ published: 6, sessions: 2 });
    expect(s.ports[0]!.baudRate).toBe(921600);
    expect(bridge.proc.exitCode).toBeNull();

    const families = parsePrometheus(await bridge.metrics());
    const value = (name: string) =>
      Number(families.find((f) => f.name === name)?.metrics.reduce((a, m) => a + Number(m.value ?? 0), 0));
    expect(value('tidegate_bridge_published_total')).toBe(6);
    expect(value('tidegate_bridge_port_opens_total')).toBe(2);
    expect(value('tidegate_bridge_acks_sent_total')).toBe(s.totals.acksSent);
  });
});
