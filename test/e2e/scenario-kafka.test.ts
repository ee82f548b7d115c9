/**
 * uplink-outage and crash-restart against a real Kafka broker (the test
 * harness, which can shut the broker down and restart it), verified by reading
 * the topic back from the beginning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveScenario } from '../../device-sim/src/commands/scenario.js';
import { runScenario } from '../../device-sim/src/scenario/runner.js';
import { loadScenario } from '../../device-sim/src/scenario/schema.js';
import { KafkaUpstream } from '../../device-sim/src/scenario/upstream.js';
import { tempDir } from '../support/gateway-process.js';
import { type KafkaBroker, startKafka } from '../support/kafka.js';

describe('shipped scenarios against real Kafka', () => {
  let kafka: KafkaBroker;
  beforeAll(async () => {
    kafka = await startKafka();
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  it('uplink-outage: the broker is shut down for 6 s under load; 0 acknowledged messages lost', async () => {
    const r = await runScenario({
      scenario: loadScenario(resolveScenario('uplink-outage')),
      upstream: new KafkaUpstream(kafka, 'sim-uplink-outage'),
      workDir: tempDir('sim-kafka-outage-'),
      devices: { devices: 10 },
    });
    expect(r.events.some((e) => e.includes('upstream stopped'))).toBe(true);
    expect(r.maxBacklog).toBeGreaterThan(200);
    expect(r.verify.acked).toBeGreaterThan(800);
    expect(r.verify.lost).toBe(0);
    expect(r.verify.outOfOrder).toBe(0);
  });

  it('crash-restart: the gateway is SIGKILLed twice while it forwards to Kafka; 0 lost', async () => {
    const r = await runScenario({
      scenario: loadScenario(resolveScenario('crash-restart')),
      upstream: new KafkaUpstream(kafka, 'sim-crash-restart'),
      workDir: tempDir('sim-kafka-crash-'),
      devices: { devices: 10 },
    });
    expect(r.events.filter((e) => e.includes('gateway killed'))).toHaveLength(2);
    expect(r.verify.acked).toBeGreaterThan(800);
    expect(r.verify.lost).toBe(0);
  });
});
