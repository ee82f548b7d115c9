/**
 * Queue bounds through the real broker: both full-queue policies, expiry by
 * age, and a restart with a non-empty queue that then drains.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/gateway-process.js';
import { startInProcess, until } from '../support/in-process.js';
import { readFileSink } from '../support/records.js';

/** A file sink that cannot write: its folder would be under a regular file (ENOTDIR). */
function blockedSink(dir: string, queue: Record<string, unknown>) {
  writeFileSync(join(dir, 'blocker'), 'x');
  return {
    local: {
      type: 'file',
      path: join(dir, 'blocker', 'out'),
      retry: { initialDelay: 20, maxDelay: 50 },
      queue,
    },
  };
}

const payload = 'x'.repeat(200);
const rowBytes = 200 + 'q/t'.length + 'limits-dev'.length + 48;

async function publishMany(port: number, n: number, qos: 0 | 1 = 1) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'limits-dev',
    reconnectPeriod: 0,
  });
  let acked = 0;
  let refused = false;
  c.on('close', () => {
    refused = true;
  });
  for (let i = 0; i < n && !refused; i++) {
    const ok = await Promise.race([
      c.publishAsync('q/t', payload, { qos }).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => c.once('close', () => r(false))),
    ]);
    if (ok) acked++;
  }
  c.end(true);
  return { acked, refused };
}

describe('queue limits through the broker', () => {
  it('drops the oldest messages when the queue is full under drop-oldest, and counts them', async () => {
    const dir = tempDir();
    const gw = await startInProcess(
      { sinks: blockedSink(dir, { maxBytes: rowBytes * 10, whenFull: 'drop-oldest' }) },
      dir,
    );
    try {
      const r = await publishMany(gw.broker.port, 25);
      expect(r).toEqual({ acked: 25, refused: false });
      const snap = await gw.snapshot();
      expect(snap.sinks[0]).toMatchObject({ backlogMessages: 10, backlogBytes: rowBytes * 10 });
      expect(snap.sinks[0]!.dropped).toEqual({ dropped_full: 15 });
      expect(snap.sinks[0]!.fillRatio).toBe(1);
      expect(snap.warnings.some((w) => w.includes('100% full'))).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it('withholds the PUBACK under reject-new: the device is disconnected, nothing acked is dropped', async () => {
    const dir = tempDir();
    const gw = await startInProcess(
      { sinks: blockedSink(dir, { maxBytes: rowBytes * 10, whenFull: 'reject-new' }) },
      dir,
    );
    try {
      const r = await publishMany(gw.broker.port, 25);
      expect(r).toEqual({ acked: 10, refused: true });
      const snap = await gw.snapshot();
      expect(snap.sinks[0]).toMatchObject({ backlogMessages: 10 });
      expect(snap.sinks[0]!.dropped).toEqual({ rejected_full: 1 });
    } finally {
      await gw.stop();
    }
  });

  it('expires messages older than maxAge and counts them as expired', async () => {
    const dir = tempDir();
    const gw = await startInProcess(
      { queue: { retentionInterval: 100 }, sinks: blockedSink(dir, { maxAge: 300 }) },
      dir,
    );
    try {
      await publishMany(gw.broker.port, 5);
      expect((await gw.snapshot()).sinks[0]!.backlogMessages).toBe(5);
      const s = await until(async () => {
        const snap = await gw.snapshot();
        return snap.sinks[0]!.backlogMessages === 0 ? snap.sinks[0] : null;
      }, 5000);
      expect(s.dropped).toEqual({ expired: 5 });
    } finally {
      await gw.stop();
    }
  });

  it('keeps a non-empty queue across a restart and drains it once the sink works', async () => {
    const dir = tempDir();
    const first = await startInProcess({ sinks: blockedSink(dir, {}) }, dir);
    await publishMany(first.broker.port, 30);
    expect((await first.snapshot()).sinks[0]!.backlogMessages).toBe(30);
    await first.stop();
    const out = join(dir, 'good-out');
    const second = await startInProcess({ sinks: { local: { type: 'file', path: out } } }, dir);
    try {
      await until(async () => (await second.snapshot()).sinks[0]!.backlogMessages === 0, 10_000, 'drain');
      const records = await readFileSink(out);
      expect(records).toHaveLength(30);
      const seqs = records.map((r) => Number(r.id.split('/')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      await second.stop();
    }
  });
});
