import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import {
  decodePayload,
  encodePayload,
  payloadOfEnvelope,
  type SimPayload,
} from '../../../device-sim/src/contract.js';
import { Histogram } from '../../../device-sim/src/histogram.js';
import {
  fromRanges,
  type Ledger,
  readLedger,
  toRanges,
  writeLedger,
} from '../../../device-sim/src/ledger.js';
import { meanIntervalMs, parseDuration, parseFleet } from '../../../device-sim/src/options.js';
import { builtinProfiles, loadProfile, rng } from '../../../device-sim/src/profiles.js';
import { parseScenario } from '../../../device-sim/src/scenario/schema.js';
import { payloadsInBody } from '../../../device-sim/src/verify/sources.js';

const p: SimPayload = { run: 'r', dev: 'sim-00001', seq: 7, ts: 1_700_000_000_000, data: { temp: 21.5 } };

describe('payload contract', () => {
  it('round-trips JSON and CBOR payloads and pads to the requested size', () => {
    for (const enc of ['json', 'cbor'] as const) {
      const bare = encodePayload(p, enc);
      expect(decodePayload(bare)).toEqual(p);
      const padded = encodePayload(p, enc, 300);
      expect(padded.length).toBeGreaterThanOrEqual(295);
      expect(padded.length).toBeLessThanOrEqual(305);
      expect(decodePayload(padded)?.seq).toBe(7);
    }
  });

  it('refuses bytes that are not a simulated message', () => {
    expect(decodePayload(Buffer.from('{"seq":1}'))).toBeNull();
    expect(decodePayload(Buffer.from([0xff, 0x00, 0x13]))).toBeNull();
    expect(decodePayload(Buffer.from('not json at all'))).toBeNull();
  });

  it('reads the payload of an envelope, inline or base64', () => {
    const base = { id: 'g/1', gatewayId: 'g', deviceId: 'd', topic: 't', route: 'r', receivedAt: 1 };
    expect(payloadOfEnvelope({ ...base, contentType: 'application/json', payload: p })).toEqual(p);
    const b64 = encodePayload(p, 'cbor').toString('base64');
    expect(
      payloadOfEnvelope({ ...base, contentType: 'application/octet-stream', payloadBase64: b64 }),
    ).toEqual(p);
  });

  it('finds payloads in raw, enveloped and packed upstream bodies', () => {
    expect(payloadsInBody(encodePayload(p, 'json')).payloads).toHaveLength(1);
    const env = { id: 'g/1', deviceId: 'd', contentType: 'application/json', payload: p };
    expect(payloadsInBody(Buffer.from(JSON.stringify(env))).payloads).toEqual([p]);
    expect(payloadsInBody(Buffer.from(JSON.stringify([env, env, { x: 1 }])))).toMatchObject({ foreign: 1 });
    const packedCbor = encode([{ id: 'g/2', payload: encodePayload(p, 'cbor') }]);
    expect(payloadsInBody(Buffer.from(packedCbor)).payloads).toEqual([p]);
  });
});

describe('ledger', () => {
  it('stores acked sequence numbers as ranges and reads them back', async () => {
    expect(toRanges([5, 1, 2, 3, 9, 10])).toEqual([
      [1, 3],
      [5, 5],
      [9, 10],
    ]);
    expect([...fromRanges([[1, 3]])]).toEqual([1, 2, 3]);
    const file = join(await mkdtemp(join(tmpdir(), 'sim-ledger-')), 'l.json');
    const l: Ledger = {
      run: 'r',
      qos: 1,
      startedAt: 1,
      endedAt: 2,
      devices: new Map([['a', { generated: 4, published: 4, acked: new Set([0, 1, 3]) }]]),
    };
    await writeLedger(file, l);
    expect(await readLedger(file)).toEqual(l);
  });

  it('refuses a file that is not a ledger with a clear error', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'sim-ledger-')), 'bad.json');
    writeFileSync(file, '{"hello":1}');
    await expect(readLedger(file)).rejects.toThrow(/not a tidegate-sim ledger/);
    writeFileSync(file, '{');
    await expect(readLedger(file)).rejects.toThrow(/not JSON/);
  });
});

describe('histogram', () => {
  it('gives percentiles within 2 % and merges', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i);
    a.merge(b.toJSON());
    expect(a.count).toBe(1000);
    expect(a.percentile(50)).toBeGreaterThanOrEqual(500);
    expect(a.percentile(50)).toBeLessThanOrEqual(510);
    expect(a.percentile(99)).toBeGreaterThanOrEqual(990);
    expect(a.percentile(99)).toBeLessThanOrEqual(1000);
    expect(a.max).toBe(1000);
  });
});

describe('options and profiles', () => {
  it('parses durations and rates, and reports bad options by path', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(() => parseDuration('soon')).toThrow(/expected a duration/);
    expect(meanIntervalMs(parseFleet({ devices: 10, totalRate: 100 }))).toBe(100);
    expect(() => parseFleet({ devices: 0, qos: 3, duration: 'x' })).toThrow(
      /devices\.devices[\s\S]*devices\.qos[\s\S]*devices\.duration/,
    );
    expect(() => parseFleet({ rate: 1, totalRate: 2 })).toThrow(/rate or totalRate/);
  });

  it('makes the same readings from the same seed, and keeps the mean rate in bursts', () => {
    for (const profile of Object.values(builtinProfiles)) {
      const a = profile.create(rng(42));
      const b = profile.create(rng(42));
      expect(a.next()).toEqual(b.next());
      let total = 0;
      for (let i = 0; i < 100; i++) total += a.delay(1000);
      expect(total / 100).toBeCloseTo(1000, -1);
    }
  });

  it('loads a custom profile file and refuses a bad one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-profile-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      'name: pump\nfields:\n  rpm: { type: walk, start: 1000, step: 10 }\n  n: { type: counter }\n  state: { type: choice, values: [on, off] }\n',
    );
    const inst = loadProfile(join(dir, 'p.yaml')).create(rng(1));
    const first = inst.next();
    expect(first.n).toBe(0);
    expect(inst.next().n).toBe(1);
    expect(['on', 'off']).toContain(first.state);
    writeFileSync(join(dir, 'bad.yaml'), 'fields:\n  x: { type: nope }\n');
    expect(() => loadProfile(join(dir, 'bad.yaml'))).toThrow(/invalid profile[\s\S]*fields\.x/);
    expect(() => loadProfile('volcano')).toThrow(/unknown profile "volcano"/);
  });
});

describe('scenario files', () => {
  it('parses a timeline in time order and reports mistakes by path', () => {
    const s = parseScenario(
      {
        name: 'x',
        timeline: [
          { at: '5s', action: 'start-gateway' },
          { at: 1000, action: 'kill-gateway' },
        ],
      },
      'x.yaml',
    );
    expect(s.timeline.map((t) => [t.at, t.action])).toEqual([
      [1000, 'kill-gateway'],
      [5000, 'start-gateway'],
    ]);
    expect(() =>
      parseScenario({ name: 'x', timeline: [{ at: 'later', action: 'explode' }] }, 'x.yaml'),
    ).toThrow(/timeline\.0\.at[\s\S]*timeline\.0\.action/);
  });
});
