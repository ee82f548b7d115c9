/**
 * The gateway is SIGKILLed in the middle of draining a backlog to a real
 * Kafka broker, then restarted: every message that got a PUBACK arrives,
 * in per-device order (duplicates allowed, counted by record id).
 */
import { describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { startKafka } from '../support/kafka.js';
import { consumeAll } from '../support/kafka-consume.js';
import { freePort } from '../support/ports.js';
import { newLedger, publishLoad } from '../support/publisher.js';

async function sink(gw: GatewayProcess): Promise<{ backlogMessages: number; sent: number }> {
  const res = await fetch(`http://127.0.0.1:${gw.statusPort}/api/status`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  return ((await res.json()) as { sinks: Array<{ backlogMessages: number; sent: number }> }).sinks[0]!;
}

describe('kill -9 during a drain to Kafka', () => {
  it('loses no acknowledged message and keeps per-device order', async () => {
    const kafka = await startKafka();
    try {
      const dataDir = tempDir();
      const config = {
        mqtt: { port: await freePort() },
        sinks: {
          k: {
            type: 'kafka',
            brokers: [kafka.bootstrap],
            topic: 'drain-crash',
            autocreateTopics: true,
            batch: { maxRecords: 50, linger: 0 },
            retry: { initialDelay: 100, maxDelay: 500 },
            sendTimeout: '5s',
          },
        },
        routes: { all: { from: 'devices/#', to: 'k' } },
      };
      let gw = await startGateway(config, { dataDir });
      await kafka.shutdown();
      const ledger = newLedger();
      const load = publishLoad(gw.mqttPort, 10, ledger, { window: 8 });
      await until(
        () => [...ledger.acked.values()].reduce((a, s) => a + s.size, 0) >= 3000,
        30_000,
        '3000 acks',
      );
      await load.stop();
      expect((await sink(gw)).backlogMessages).toBeGreaterThan(2500);
      await kafka.restart();
      await until(async () => (await sink(gw)).sent > 200, 30_000, 'drain under way');
      const mid = await sink(gw);
      expect(mid.backlogMessages).toBeGreaterThan(0);
      await gw.kill('SIGKILL');
      gw = await startGateway(config, { dataDir, configFile: gw.configFile });
      await until(async () => (await sink(gw)).backlogMessages === 0, 60_000, 'drain after restart');
      expect(await gw.stop()).toBe(0);

      const acked = [...ledger.acked.values()].reduce((a, s) => a + s.size, 0);
      const got = await consumeAll(kafka.bootstrap, ['drain-crash'], acked);
      const byDevice = new Map<string, number[]>();
      for (const m of got) {
        const p = JSON.parse(m.value.toString()) as { d: string; seq: number };
        byDevice.set(p.d, [...(byDevice.get(p.d) ?? []), p.seq]);
      }
      let lost = 0;
      for (const [device, seqs] of ledger.acked) {
        const arrived = new Set(byDevice.get(device) ?? []);
        for (const s of seqs) if (!arrived.has(s)) lost++;
        const order = (byDevice.get(device) ?? []).filter((v, i, a) => a.indexOf(v) === i);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      const ids = got.map((m) => m.headers['tidegate-id']);
      console.log(
        `kafka drain crash: acked ${acked}, upstream ${got.length}, lost ${lost}, duplicates ${ids.length - new Set(ids).size} (killed with ${mid.backlogMessages} still queued)`,
      );
      expect(lost).toBe(0);
    } finally {
      await kafka.stop();
    }
  });
});
