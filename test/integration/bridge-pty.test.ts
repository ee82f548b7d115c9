/**
 * The bridge against the real gateway (child process) over real kernel PTYs
 * (socat), with the TypeScript simulated firmware on the far end.
 */
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bridge } from '../../firmware-bridge/src/bridge.js';
import {
  cobsEncode,
  decodeCbor,
  encodeCbor,
  encodeFrame,
  encodeRawFrame,
  FrameType,
  NackReason,
  serializeFrame,
} from '../../firmware-bridge/src/protocol/index.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { cborOf, gatewayConfig, mqttUrl, recordsOf, startBridge, waitFor } from './bridge-harness.js';

let gw: GatewayProcess;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  gw = await startGateway(gatewayConfig);
});
afterAll(async () => {
  await gw?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A PTY pair, a bridge serving its host end and a simulated device on its device end. */
async function rig(deviceId: string, sim: Partial<ConstructorParameters<typeof SimulatedFirmware>[0]> = {}) {
  const pty = await PtyPair.open();
  cleanups.push(() => pty.close());
  const bridge = await startBridge(mqttUrl(gw), [{ path: pty.hostPath }]);
  cleanups.push(() => bridge.stop());
  await waitFor('port open', () => bridge.status().ports[0]?.state === 'open');
  const dev = new SimulatedFirmware({ path: pty.devicePath, deviceId, ackTimeoutMs: 200, ...sim });
  await dev.open();
  cleanups.push(() => dev.close());
  return { pty, bridge, dev };
}

const port0 = (b: Bridge) => b.status().ports[0]!;

describe('bridge over a PTY to the real gateway', () => {
  it('publishes DATA as devices/<id>/<suffix> and ACKs it once the gateway has stored it', async () => {
    const { bridge, dev } = await rig('pty-dev-1');
    expect((await dev.hello()).ok).toBe(true);
    const r = await dev.sendData('env', { t: 21.5, n: -3, ok: true });
    expect(r).toMatchObject({ ok: true, tries: 1, nacks: [] });
    const recs = await waitFor('record in the file sink', async () => {
      const x = await recordsOf(gw, 'pty-dev-1');
      return x.length > 0 ? x : null;
    });
    expect(recs).toHaveLength(1);
    expect(recs[0]!.topic).toBe('devices/pty-dev-1/env');
    expect(cborOf(recs[0]!)).toEqual(
      new Map<unknown, unknown>([
        ['t', 21.5],
        ['n', -3],
        ['ok', true],
      ]),
    );
    const s = bridge.status();
    expect(s.totals.published).toBe(1);
    expect(s.totals.acksSent).toBe(2); // HELLO + DATA
    expect(s.ackLatency.count).toBe(1);
    expect(s.ports[0]!.device).toMatchObject({ id: 'pty-dev-1', firmware: 'sim-1.0', capabilities: ['cmd'] });
    expect(s.gateway.devicesConnected).toBe(1);
  });

  it('requires HELLO first: DATA and PING without a session get NACK not-hello', async () => {
    const { bridge, dev } = await rig('pty-dev-2');
    const seq = dev.takeSeq();
    const nack = dev.waitAnswer((a) => a.seq === seq, 2000);
    dev.sendFrame({ type: FrameType.Data, seq, topic: 'x', body: encodeCbor(1) });
    expect(await nack).toMatchObject({ type: FrameType.Nack, reason: NackReason.NotHello });
    expect(await dev.ping()).toBe('not-hello');
    // the simulated firmware reacts to not-hello by sending HELLO and retransmitting
    const r = await dev.sendData('x', 2);
    expect(r.ok).toBe(true);
    expect(await dev.ping()).toBe('pong');
    expect(port0(bridge).counters.nacksSent['not-hello']).toBeGreaterThanOrEqual(2);
    // only the DATA sent inside the session was stored
    const recs = await waitFor('record', async () => {
      const x = await recordsOf(gw, 'pty-dev-2');
      return x.length > 0 ? x : null;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await recordsOf(gw, 'pty-dev-2')).map(cborOf)).toEqual([2]);
    expect(recs).toHaveLength(1);
  });

  it('ACKs a retransmitted DATA again without publishing it twice', async () => {
    const { bridge, dev } = await rig('pty-dev-3');
    await dev.hello();
    const seq = dev.takeSeq();
    const wire = encodeFrame({ type: FrameType.Data, seq, topic: 'dup', body: encodeCbor({ once: 1 }) });
    for (let i = 0; i < 3; i++) {
      const ack = dev.waitAnswer((a) => a.seq === seq, 5000);
      dev.writeRaw(wire);
      expect(await ack).toMatchObject({ type: FrameType.Ack });
    }
    await waitFor('record', async () => (await recordsOf(gw, 'pty-dev-3')).length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await recordsOf(gw, 'pty-dev-3')).toHaveLength(1);
    expect(port0(bridge).counters).toMatchObject({ published: 1, duplicates: 2 });
  });

  it('NACKs corrupted and invalid frames with their reason, stays silent where the spec says, and keeps going', async () => {
    const { bridge, dev } = await rig('pty-dev-4');
    await dev.hello();
    const expectNack = async (wire: Buffer, seq: number, reason: NackReason) => {
      const a = dev.waitAnswer((x) => x.seq === seq && x.type === FrameType.Nack, 2000);
      dev.writeRaw(wire);
      expect(await a, `NACK ${reason} for seq ${seq}`).toMatchObject({ reason });
    };
    const flipped = serializeFrame({
      type: FrameType.Data,
      seq: 100,
      topic: 'env',
      body: encodeCbor({ t: 1 }),
    });
    flipped[8]! ^= 0x10;
    await expectNack(cobsEncode(flipped, true), 100, NackReason.BadCrc);
    const big = encodeRawFrame({ version: 1, type: FrameType.Data, seq: 101, payload: Buffer.alloc(600, 7) });
    await expectNack(big, 101, NackReason.Oversize);
    const badCbor = Buffer.from([3, ...Buffer.from('env'), 0xa1]);
    await expectNack(
      encodeRawFrame({ version: 1, type: FrameType.Data, seq: 102, payload: badCbor }),
      102,
      NackReason.Malformed,
    );
    const badTopic = Buffer.from([2, ...Buffer.from('+x'), 0x01]);
    await expectNack(
      encodeRawFrame({ version: 1, type: FrameType.Data, seq: 103, payload: badTopic }),
      103,
      NackReason.BadTopic,
    );
    await expectNack(
      encodeRawFrame({ version: 2, type: FrameType.Data, seq: 104, payload: Buffer.from([0, 1]) }),
      104,
      NackReason.BadVersion,
    );
    await expectNack(
      encodeRawFrame({ version: 1, type: 0x09, seq: 105, payload: Buffer.alloc(0) }),
      105,
      NackReason.UnknownType,
    );
    await expectNack(
      encodeFrame({ type: FrameType.Command, seq: 106, topic: 'x', body: encodeCbor(1) }),
      106,
      NackReason.UnknownType,
    );
    // silent: a truncated COBS block, a too-short frame, and an invalid ACK (never NACK an unsequenced frame)
    const silent = dev.waitAnswer((x) => x.type === FrameType.Nack && x.seq >= 107 && x.seq <= 109, 600);
    dev.writeRaw(Buffer.from([0x05, 0x01, 0x02, 0x00]));
    dev.writeRaw(Buffer.from([0x03, 0x01, 0x02, 0x00]));
    dev.writeRaw(encodeRawFrame({ version: 1, type: FrameType.Ack, seq: 109, payload: Buffer.from([1]) }));
    expect(await silent).toBeNull();
    // and the session still works
    expect((await dev.sendData('after', { ok: 1 })).ok).toBe(true);
    const c = port0(bridge);
    expect(c.counters.nacksSent).toMatchObject({
      'bad-crc': 1,
      oversize: 1,
      malformed: 1,
      'bad-topic': 1,
      'bad-version': 1,
      'unknown-type': 2,
    });
    expect(c.decoder).toMatchObject({ crcErrors: 1, oversize: 1, cobsErrors: 1, tooShort: 1 });
    // CRC valid, content bad: malformed, bad-topic, bad-version, type 0x09, the invalid ACK (a device's
    // COMMAND is a valid frame in the wrong direction, refused by the session, not the decoder)
    expect(c.decoder.rejected).toBe(5);
    const recs = await waitFor('record', async () => {
      const x = await recordsOf(gw, 'pty-dev-4');
      return x.length > 0 ? x : null;
    });
    expect(recs.map((r) => r.topic)).toEqual(['devices/pty-dev-4/after']);
  });

  it('delivers commands published to devices/<id>/commands/# to the device as COMMAND frames', async () => {
    const { bridge, dev } = await rig('pty-dev-5');
    await dev.hello();
    await waitFor('device connection', () => port0(bridge).device?.connected);
    const client = await mqtt.connectAsync(mqttUrl(gw), { clientId: 'operator-1' });
    cleanups.push(() => client.endAsync());
    await client.publishAsync('devices/pty-dev-5/commands/led/set', '{"on":true,"level":3}', { qos: 1 });
    await client.publishAsync('devices/pty-dev-5/commands/reboot', Buffer.from(encodeCbor({ delay: 5 })), {
      qos: 1,
    });
    await client.publishAsync('devices/pty-dev-5/commands/bad', Buffer.from([0xff, 0xfe]), { qos: 1 });
    await waitFor('two commands at the device', () => dev.commands.length >= 2);
    expect(dev.commands.map((c) => c.topic)).toEqual(['led/set', 'reboot']);
    expect(decodeCbor(dev.commands[0]!.body)).toEqual({
      ok: true,
      value: new Map<unknown, unknown>([
        ['on', true],
        ['level', 3],
      ]),
    });
    expect(decodeCbor(dev.commands[1]!.body)).toEqual({ ok: true, value: new Map([['delay', 5]]) });
    await waitFor('command ACKs counted', () => port0(bridge).counters.commandsAcked === 2);
    // 0xff 0xfe is neither JSON nor one CBOR item: dropped at the bridge, counted
    await waitFor('bad payload counted', () => port0(bridge).counters.commandsDropped['bad-payload'] === 1);
    expect(dev.commands).toHaveLength(2);
  });

  it('does not send commands to a device that did not announce the "cmd" capability', async () => {
    const { bridge, dev } = await rig('pty-dev-6', { capabilities: [] });
    await dev.hello();
    await waitFor('device connection', () => port0(bridge).device?.connected);
    const client = await mqtt.connectAsync(mqttUrl(gw), { clientId: 'operator-2' });
    cleanups.push(() => client.endAsync());
    await client.publishAsync('devices/pty-dev-6/commands/x', '1', { qos: 1 });
    await waitFor('drop counted', () => port0(bridge).counters.commandsDropped['no-cmd'] === 1);
    expect(dev.commands).toHaveLength(0);
  });

  it('answers PING with PONG inside a session and counts frames both ways', async () => {
    const { bridge, dev } = await rig('pty-dev-7');
    await dev.hello();
    for (let i = 0; i < 5; i++) expect(await dev.ping()).toBe('pong');
    const c = port0(bridge).counters;
    expect(c.framesIn).toMatchObject({ HELLO: 1, PING: 5 });
    expect(c.framesOut).toMatchObject({ ACK: 1, PONG: 5 });
  });
});
