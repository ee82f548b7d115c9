/**
 * kill -9 under load, several times, then restart: every message that got a
 * PUBACK must reach the file sink. Duplicates are allowed (at-least-once) and counted.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { freePort } from '../support/ports.js';
import { newLedger, publishLoad } from '../support/publisher.js';
import { readFileSink } from '../support/records.js';

async function sinkIsDrained(gw: GatewayProcess): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${gw.statusPort}/api/status`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  const body = (await res.json()) as { sinks: Array<{ backlogMessages: number }> };
  return body.sinks.every((s) => s.backlogMessages === 0);
}

describe('crash safety', () => {
  it('loses no acknowledged message across repeated SIGKILLs under QoS 1 load from many clients', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const config = { mqtt: { port }, queue: { durability: 'power-loss' } };
    const ledger = newLedger();
    let gw = await startGateway(config, { dataDir });
    const load = publishLoad(port, 20, ledger, { window: 8 });
    const kills = 3;
    for (let k = 0; k < kills; k++) {
      const before = [...ledger.acked.values()].reduce((a, s) => a + s.size, 0);
      await until(
        () => [...ledger.acked.values()].reduce((a, s) => a + s.size, 0) > before + 300,
        20_000,
        'acks',
      );
      expect(await gw.kill('SIGKILL')).toBeNull();
      gw = await startGateway(config, { dataDir, configFile: gw.configFile });
    }
    await until(() => [...ledger.acked.values()].reduce((a, s) => a + s.size, 0) > 2000, 20_000, 'acks');
    await load.stop();
    await until(() => sinkIsDrained(gw), 30_000, 'drain');
    expect(await gw.stop()).toBe(0);

    const records = await readFileSink(join(dataDir, 'out'));
    const seen = new Map<string, Map<number, number>>();
    for (const r of records) {
      const p = r.payload as { d: string; seq: number };
      const m = seen.get(p.d) ?? new Map<number, number>();
      m.set(p.seq, (m.get(p.seq) ?? 0) + 1);
      seen.set(p.d, m);
    }
    let acked = 0;
    let lost = 0;
    let duplicates = 0;
    for (const [device, seqs] of ledger.acked) {
      for (const seq of seqs) {
        acked++;
        if (!seen.get(device)?.has(seq)) lost++;
      }
    }
    for (const m of seen.values()) for (const n of m.values()) duplicates += n - 1;
    // a duplicate (a batch written again after a crash, before its removal committed) carries the same
    // record id, so consumers can drop it: one id per message, one message per id
    const idOf = new Map<string, string>();
    const payloadOf = new Map<string, string>();
    for (const r of records) {
      const p = r.payload as { d: string; seq: number };
      const key = `${p.d}/${p.seq}`;
      expect(idOf.get(key) ?? r.id).toBe(r.id);
      expect(payloadOf.get(r.id) ?? key).toBe(key);
      idOf.set(key, r.id);
      payloadOf.set(r.id, key);
    }
    console.log(
      `crash test: ${kills} kills, sent ${ledger.sent}, acked ${acked}, stored ${records.length}, lost ${lost}, duplicates ${duplicates}`,
    );
    expect(acked).toBeGreaterThan(2000);
    expect(lost).toBe(0);
  });
});
