/**
 * The bridge process between PTY devices and a gateway process that stops
 * (SIGSTOP) or dies (SIGKILL) and comes back: the device gets its ACK only
 * after the gateway's PUBACK, the bridge buffers within its bound and NACKs
 * busy beyond it, and nothing is stored twice or lost.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameType } from '../../firmware-bridge/src/protocol/index.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { gatewayConfig, recordsOf, sleep, waitFor } from '../integration/bridge-harness.js';
import { startGateway } from '../support/gateway-process.js';
import { type BridgeProcess, startBridgeProcess } from './bridge-support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(devices: string[], bridgeExtra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tidegate-bridge-e2e-'));
  let gw = await startGateway(gatewayConfig);
  cleanups.push(() => gw.kill('SIGKILL'));
  const ptys: PtyPair[] = [];
  for (const d of devices) {
    const p = new PtyPair(join(dir, `${d}-device`), join(dir, `${d}-host`));
    await p.start();
    cleanups.push(() => p.close());
    ptys.push(p);
  }
  const bridge: BridgeProcess = await startBridgeProcess(dir, {
    bridgeId: 'e2e',
    gateway: { url: `mqtt://127.0.0.1:${gw.mqttPort}`, reconnectPeriod: '200ms' },
    ports: ptys.map((p) => ({ path: p.hostPath })),
    ...bridgeExtra,
  });
  cleanups.push(() => bridge.stop());
  await waitFor('ports open', async () => (await bridge.status()).ports.every((p) => p.state === 'open'));
  const sims = devices.map(
    (d, i) =>
      new SimulatedFirmware({
        path: ptys[i]!.devicePath,
        deviceId: d,
        ackTimeoutMs: 200,
        busyBackoffMs: 300,
      }),
  );
  for (const s of sims) {
    await s.open();
    cleanups.push(() => s.close());
    expect((await s.hello()).ok).toBe(true);
  }
  const restartGateway = async () => {
    gw = await startGateway(
      { ...gatewayConfig, mqtt: { port: gw.mqttPort } },
      { dataDir: gw.dataDir, configFile: gw.configFile },
    );
    return gw;
  };
  return { gw: () => gw, bridge, sims, restartGateway };
}

const ackFor = (sim: SimulatedFirmware, seq: number) =>
  sim.answers.find((a) => a.type === FrameType.Ack && a.seq === seq);

describe('bridge process with a gateway that stops and dies', () => {
  it('sends no ACK while the gateway is stopped (SIGSTOP) and ACKs after it resumes (SIGCONT)', async () => {
    const { gw, bridge, sims } = await setup(['e2e-stop-1']);
    const [sim] = sims as [SimulatedFirmware];
    expect((await sim.sendData('env', { before: 1 })).ok).toBe(true);
    expect(gw().proc.kill('SIGSTOP')).toBe(true);
    let resumed = 0;
    try {
      const seq = sim.nextSeq;
      const pending = sim.sendData('env', { during: 1 });
      await sleep(2500);
      expect(ackFor(sim, seq), 'an ACK while the gateway cannot PUBACK').toBeUndefined();
      const s = await bridge.status();
      expect(s.buffer.messages).toBe(1);
      expect(s.totals.inProgress).toBeGreaterThan(0); // retransmissions seen and held, not republished
      resumed = performance.now();
      gw().proc.kill('SIGCONT');
      const r = await pending;
      expect(r.ok).toBe(true);
      expect(r.tries).toBeGreaterThan(1);
      expect(ackFor(sim, seq)!.at).toBeGreaterThan(resumed);
    } finally {
      if (!resumed) gw().proc.kill('SIGCONT');
    }
    const recs = await waitFor('both records', async () => {
      const r = await recordsOf(gw(), 'e2e-stop-1');
      return r.length >= 2 ? r : null;
    });
    await sleep(300);
    expect(await recordsOf(gw(), 'e2e-stop-1')).toHaveLength(recs.length);
    expect(recs).toHaveLength(2);
  });

  it('holds DATA over a gateway kill -9 and restart, and NACKs busy beyond its buffer bound', async () => {
    const { bridge, sims, restartGateway, gw } = await setup(['e2e-kill-a', 'e2e-kill-b'], {
      buffer: { maxMessages: 1 },
    });
    const [a, b] = sims as [SimulatedFirmware, SimulatedFirmware];
    await gw().kill('SIGKILL');
    const seqA = a.nextSeq;
    const sendA = a.sendData('env', { from: 'a' });
    await waitFor('A held in the buffer', async () => (await bridge.status()).buffer.messages === 1);
    const sendB = b.sendData('env', { from: 'b' });
    await waitFor('B refused with busy', async () => (await bridge.status()).totals.nacksSent.busy! >= 1);
    await sleep(500);
    expect(ackFor(a, seqA)).toBeUndefined();
    await restartGateway();
    const [ra, rb] = await Promise.all([sendA, sendB]);
    expect(ra.ok).toBe(true);
    expect(rb.ok).toBe(true);
    expect(rb.nacks[0]).toBe('busy');
    const s = await bridge.status();
    expect(s.buffer).toMatchObject({ messages: 0, bytes: 0, maxMessages: 1 });
    expect(s.buffer.refused).toBeGreaterThanOrEqual(1);
    for (const id of ['e2e-kill-a', 'e2e-kill-b']) {
      const recs = await waitFor(`record of ${id}`, async () => {
        const r = await recordsOf(gw(), id);
        return r.length > 0 ? r : null;
      });
      expect(recs).toHaveLength(1);
    }
    expect(bridge.proc.exitCode).toBeNull();
  });
});
