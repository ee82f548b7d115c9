/**
 * Fuzz over a real PTY for a bounded time (BRIDGE_FUZZ_MS, default 4 s):
 * random bytes, bit-flipped, truncated and oversized frames, interleaved with
 * valid DATA frames sent with the device's retransmission rules. The bridge
 * must not crash, must resynchronise, must ACK every valid frame, and must
 * publish exactly the valid frames, each once: never a corrupted one.
 * The PRNG seed is printed on failure (BRIDGE_FUZZ_SEED reproduces a run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bridge } from '../../firmware-bridge/src/bridge.js';
import {
  cobsEncode,
  encodeCbor,
  FrameType,
  serializeFrame,
} from '../../firmware-bridge/src/protocol/index.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { cborOf, gatewayConfig, mqttUrl, recordsOf, startBridge, waitFor } from './bridge-harness.js';

const FUZZ_MS = Number(process.env.BRIDGE_FUZZ_MS ?? 4000);
const SEED = Number(process.env.BRIDGE_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** xorshift32: reproducible from the seed. */
function prng(seed: number) {
  let x = seed || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

let gw: GatewayProcess;
let pty: PtyPair;
let bridge: Bridge;
let sim: SimulatedFirmware;

beforeAll(async () => {
  gw = await startGateway(gatewayConfig);
  pty = await PtyPair.open();
  bridge = await startBridge(mqttUrl(gw), [{ path: pty.hostPath }]);
  await waitFor('port open', () => bridge.status().ports[0]?.state === 'open');
  sim = new SimulatedFirmware({
    path: pty.devicePath,
    deviceId: 'fuzz-1',
    ackTimeoutMs: 150,
    maxProbes: 3,
    probeIntervalMs: 500,
  });
  await sim.open();
});

afterAll(async () => {
  await sim?.close();
  await bridge?.stop();
  await pty?.close();
  await gw?.stop();
});

describe(`bridge input fuzzing over a PTY (seed ${SEED})`, () => {
  it('survives noise and damaged frames, ACKs every valid frame and publishes only those, once', async () => {
    const rnd = prng(SEED);
    expect((await sim.hello()).ok).toBe(true);
    const sent: number[] = [];
    const kinds: Record<string, number> = {};
    const until = Date.now() + FUZZ_MS;
    let k = 0;
    while (Date.now() < until) {
      const kind = ['noise', 'noise0', 'flip', 'truncate', 'oversize', 'valid', 'valid'][rnd.int(7)]!;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const frame = () =>
        serializeFrame({
          type: FrameType.Data,
          seq: rnd.int(0x10000),
          topic: 'fz',
          body: encodeCbor({ junk: rnd.int(1e6) }),
        });
      switch (kind) {
        case 'noise': // random bytes, no delimiter: they corrupt whatever follows, up to the next 0x00
          sim.writeRaw(Buffer.from(Array.from({ length: 1 + rnd.int(80) }, () => 1 + rnd.int(255))));
          break;
        case 'noise0': // random bytes with zeros in them
          sim.writeRaw(Buffer.from(Array.from({ length: 1 + rnd.int(300) }, () => rnd.int(256))));
          break;
        case 'flip': {
          // 1 to 3 flipped bits: within CRC-16/CCITT's Hamming distance 4, so always detected
          const f = frame();
          for (let i = 1 + rnd.int(3); i > 0; i--) f[rnd.int(f.length)]! ^= 1 << rnd.int(8);
          sim.writeRaw(cobsEncode(f, true));
          break;
        }
        case 'truncate': {
          const w = cobsEncode(frame(), false);
          sim.writeRaw(Buffer.concat([w.subarray(0, 1 + rnd.int(w.length - 1)), Buffer.from([0])]));
          break;
        }
        case 'oversize':
          sim.writeRaw(Buffer.from(Array.from({ length: 520 + rnd.int(600) }, () => 1 + rnd.int(255))));
          sim.writeRaw(Buffer.from([0]));
          break;
        default: {
          const r = await sim.sendData('fz', { k });
          expect(r.ok, `valid frame ${k} (seed ${SEED}): ${JSON.stringify(r)}`).toBe(true);
          sent.push(k++);
        }
      }
    }
    sim.writeRaw(Buffer.from([0]));
    expect(sent.length).toBeGreaterThan(5);
    const recs = await waitFor(
      'every valid frame stored',
      async () => {
        const r = await recordsOf(gw, 'fuzz-1');
        return r.length >= sent.length ? r : null;
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const got = (await recordsOf(gw, 'fuzz-1')).map((r) => (cborOf(r) as Map<string, unknown>).get('k'));
    expect(got, `seed ${SEED}`).toEqual(sent);
    expect(recs.every((r) => r.topic === 'devices/fuzz-1/fz')).toBe(true);
    const s = bridge.status();
    expect(s.totals.published).toBe(sent.length);
    expect(s.totals.decoder.resyncs).toBeGreaterThan(0);
    expect(s.totals.decoder.crcErrors).toBeGreaterThan(0);
    expect(s.totals.nacksSent['bad-crc']).toBeGreaterThan(0);
    expect(s.ports[0]!.state).toBe('open');
    // still answering after all that
    expect(await sim.ping()).toBe('pong');
    console.log(
      `bridge fuzz: seed ${SEED}, ${JSON.stringify(kinds)}, decoder ${JSON.stringify(s.totals.decoder)}`,
    );
  });
});
