/**
 * Bounded fuzzing of the broker on raw sockets (~20 s): thousands of mutated
 * MQTT packets, random bytes, half-open connections and slowloris trickles,
 * while a well-behaved client keeps publishing. The broker must stay up, keep
 * serving that client, and keep its heap bounded. The seed is printed so a
 * failure can be replayed (FUZZ_SEED=...).
 */
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { connectPacket, publishPacket, subscribePacket } from '../conformance/raw.js';
import { startInProcess } from '../support/in-process.js';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
let state = seed;
function rnd(n: number): number {
  // mulberry32: small, seedable
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
}
const int = (n: number) => Math.floor(rnd(n));

function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b);
  const kind = int(4);
  if (kind === 0) for (let i = 0; i < 1 + int(4); i++) out[int(out.length)] = int(256);
  if (kind === 1) return out.subarray(0, int(out.length));
  if (kind === 2) return Buffer.concat([out, Buffer.from(Array.from({ length: int(32) }, () => int(256)))]);
  if (kind === 3) out[1] = int(256); // remaining length lies
  return out;
}

function seeds(): Buffer[] {
  const id = `f${int(1e6)}`;
  return [
    connectPacket({
      clientId: id,
      clean: int(2) === 0,
      keepalive: int(100),
      will: { topic: 'fz/will', payload: 'w' },
    }),
    connectPacket({ clientId: id, username: 'u', password: 'p' }),
    publishPacket(`fz/${int(10)}`, 'x'.repeat(int(64)), int(3), 1 + int(65535), int(2) === 0),
    subscribePacket(['fz/#', 'fz/+/a'], int(3), 1 + int(100)),
    Buffer.from([0xc0, 0x00]),
    Buffer.from([0xe0, 0x00]),
    Buffer.from([0x62, 0x02, 0x00, 0x01]),
  ];
}

function raw(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => {});
    s.resume(); // read (and drop) what the broker answers, so its close is seen
  });
}

describe('broker fuzz (bounded)', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startInProcess({ mqtt: { limits: { connectTimeout: '2s' } } });
    process.stdout.write(`broker fuzz seed: ${seed}\n`);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('stays up, keeps serving a good client and keeps its heap bounded', async () => {
    const port = gw.broker.port;
    const good = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'good',
      reconnectPeriod: 0,
    });
    let acked = 0;
    const goodLoop = (async () => {
      for (let i = 0; i < 200; i++) {
        await good.publishAsync('fz/good', String(i), { qos: 1 });
        acked++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let sent = 0;
    // 1. mutated packets: 60 connections x 60 packets
    for (let round = 0; round < 60; round++) {
      const s = await raw(port);
      const batch: Buffer[] = [];
      for (let i = 0; i < 60; i++) {
        const all = seeds();
        const p = all[int(all.length)]!;
        batch.push(i === 0 && int(2) === 0 ? all[0]! : mutate(p));
      }
      sent += batch.length;
      s.end(Buffer.concat(batch));
    }
    // 2. random bytes
    for (let i = 0; i < 100; i++) {
      const s = await raw(port);
      s.end(Buffer.from(Array.from({ length: 1 + int(512) }, () => int(256))));
      sent++;
    }
    // 3. half-open: connect and say nothing (connectTimeout closes them) or half a CONNECT
    const idle: Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const s = await raw(port);
      if (i % 2) s.write(connectPacket({ clientId: `h${i}` }).subarray(0, 5));
      idle.push(s);
    }
    // 4. slowloris: a byte at a time, far slower than any real client
    const slow = await Promise.all(Array.from({ length: 20 }, () => raw(port)));
    // a CONNECT with a long will payload, sent a byte every 100 ms: never complete within connectTimeout
    const trickle = connectPacket({ clientId: 'slow', will: { topic: 'fz/w', payload: 'x'.repeat(200) } });
    for (let i = 0; i < 30; i++) {
      for (const s of slow) if (!s.destroyed) s.write(trickle.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sent).toBeGreaterThanOrEqual(3600);

    // the idle and trickling connections are closed by the connect timeout
    const open = () => [...idle, ...slow].filter((s) => !s.closed).length;
    for (let i = 0; i < 40 && open() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const stillOpen = open();
    expect(stillOpen).toBe(0);

    await goodLoop;
    expect(acked).toBe(200);
    // a fresh client is still served
    const late = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'late',
      reconnectPeriod: 0,
    });
    await late.publishAsync('fz/late', 'ok', { qos: 1 });
    late.end(true);
    good.end(true);

    global.gc?.();
    const grew = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    // bounded: nothing per bad connection is kept (the limit is loose: the test runner allocates too)
    expect(grew).toBeLessThan(64);
    expect(gw.broker.listening).toBe(true);
  }, 45_000);
});
