/**
 * Unit tests of the bridge's pure logic (fake timers, no I/O): COMMAND
 * retransmission (PROTOCOL.md §6.2, §5.4), payload conversion, the pending
 * budget and ACK latency percentiles.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandSender } from '../../../firmware-bridge/src/command-sender.js';
import { LatencyTracker, PendingBudget } from '../../../firmware-bridge/src/counters.js';
import { commandBody, uplinkPayload } from '../../../firmware-bridge/src/payload.js';
import {
  decodeFrame,
  encodeCbor,
  FrameType,
  NackReason,
} from '../../../firmware-bridge/src/protocol/index.js';

function sender(maxQueued = 4) {
  const writes: Array<{ seq: number; at: number }> = [];
  const log: string[] = [];
  const s = new CommandSender(
    {
      write: (wire) => {
        const f = decodeFrame(wire);
        if (!f.ok || f.frame.type !== FrameType.Command) throw new Error('not a COMMAND');
        writes.push({ seq: f.frame.seq, at: Date.now() });
        return true;
      },
      sent: () => log.push('sent'),
      acked: (seq, topic) => log.push(`acked ${topic} ${seq}`),
      failed: (_seq, topic, why) => log.push(`failed ${topic}: ${why}`),
    },
    maxQueued,
  );
  return { s, writes, log };
}

describe('COMMAND sender (stop-and-wait)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retransmits with the same seq after 500, 1000, 2000, 4000 ms and gives up after 5 transmissions', () => {
    const { s, writes, log } = sender();
    const t0 = Date.now();
    s.enqueue('led/set', encodeCbor(1));
    vi.advanceTimersByTime(20_000);
    expect(writes.map((w) => w.at - t0)).toEqual([0, 500, 1500, 3500, 7500]);
    expect(new Set(writes.map((w) => w.seq)).size).toBe(1);
    expect(log).toEqual(['sent', 'failed led/set: no answer after 5 transmissions']);
  });

  it('sends one command at a time, the next with the next seq once the first is ACKed', () => {
    const { s, writes, log } = sender();
    s.enqueue('a', encodeCbor(1));
    s.enqueue('b', encodeCbor(2));
    expect(writes).toHaveLength(1);
    expect(s.onAck((writes[0]!.seq + 1) & 0xffff)).toBe(false); // stale
    expect(s.onAck(writes[0]!.seq)).toBe(true);
    expect(writes).toHaveLength(2);
    expect(writes[1]!.seq).toBe((writes[0]!.seq + 1) & 0xffff);
    s.onAck(writes[1]!.seq);
    expect(log).toEqual(['sent', `acked a ${writes[0]!.seq}`, 'sent', `acked b ${writes[1]!.seq}`]);
  });

  it('backs off on NACK busy without spending a try, retransmits at once on bad-crc, drops on malformed', () => {
    const { s, writes, log } = sender();
    s.enqueue('x', encodeCbor(1));
    const seq = writes[0]!.seq;
    s.onNack(seq, NackReason.Busy);
    vi.advanceTimersByTime(999);
    expect(writes).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(writes).toHaveLength(2);
    s.onNack(seq, NackReason.Busy);
    vi.advanceTimersByTime(2000); // doubled
    expect(writes).toHaveLength(3);
    s.onNack(seq, NackReason.BadCrc);
    expect(writes).toHaveLength(4);
    s.onNack(seq, NackReason.Malformed);
    expect(log.at(-1)).toBe('failed x: NACK malformed');
    vi.advanceTimersByTime(20_000);
    expect(writes).toHaveLength(4);
  });

  it('refuses commands beyond its queue bound and fails the queued ones when stopped', () => {
    const { s, log } = sender(2);
    expect(s.enqueue('1', encodeCbor(1))).toBe(true); // outstanding
    expect(s.enqueue('2', encodeCbor(2))).toBe(true);
    expect(s.enqueue('3', encodeCbor(3))).toBe(true);
    expect(s.enqueue('4', encodeCbor(4))).toBe(false);
    s.stop('port closed');
    expect(log.filter((l) => l.startsWith('failed'))).toEqual([
      'failed 1: port closed',
      'failed 2: port closed',
      'failed 3: port closed',
    ]);
    expect(s.enqueue('5', encodeCbor(5))).toBe(false);
  });
});

describe('payload conversion', () => {
  it('publishes the CBOR body as it came, or as JSON when configured', () => {
    const body = encodeCbor({ t: 21.5, raw: new Uint8Array([1, 2]), big: 2n ** 64n - 1n });
    expect(uplinkPayload(body, 'cbor')).toBe(body);
    expect(JSON.parse(uplinkPayload(body, 'json').toString())).toEqual({
      t: 21.5,
      raw: 'AQI=',
      big: '18446744073709551615',
    });
  });

  it('turns JSON commands into CBOR, passes CBOR through and refuses what is neither', () => {
    expect(commandBody(Buffer.from('{"on":true}'), 'auto')).toEqual({
      ok: true,
      body: encodeCbor({ on: true }),
    });
    const cbor = encodeCbor([1, 'x']);
    expect(commandBody(cbor, 'auto')).toEqual({ ok: true, body: cbor });
    expect(commandBody(cbor, 'json').ok).toBe(false);
    expect(commandBody(Buffer.from('{"on":true}'), 'cbor').ok).toBe(false);
    expect(commandBody(Buffer.from([0xff, 0xfe]), 'auto').ok).toBe(false);
    expect(commandBody(Buffer.alloc(0), 'auto')).toEqual({ ok: true, body: Buffer.from([0xf6]) });
  });
});

describe('pending budget and latency', () => {
  it('refuses beyond either bound and counts the refusals', () => {
    const b = new PendingBudget(2, 100);
    expect(b.tryReserve(60)).toBe(true);
    expect(b.tryReserve(50)).toBe(false); // bytes
    expect(b.tryReserve(40)).toBe(true);
    expect(b.tryReserve(0)).toBe(false); // messages
    b.release(60);
    expect(b.tryReserve(10)).toBe(true);
    expect({ messages: b.messages, bytes: b.bytes, refused: b.refused }).toEqual({
      messages: 2,
      bytes: 50,
      refused: 2,
    });
  });

  it('reports nearest-rank p50/p99 over the most recent samples only (901..1000 here)', () => {
    const l = new LatencyTracker(100);
    expect(l.percentile(0.5)).toBeNull();
    for (let i = 1; i <= 1000; i++) l.add(i);
    expect(l.summary()).toMatchObject({ count: 1000, p50Ms: 950, p99Ms: 999, maxMs: 1000 });
  });
});
