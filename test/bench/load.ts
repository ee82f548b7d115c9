/**
 * A QoS 1 load generator for benchmarks: N MQTT clients, either as fast as
 * a window of in-flight publishes allows, or at a fixed total rate; measures
 * PUBACK latency per message.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface LoadResult {
  publishers: number;
  seconds: number;
  acked: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runLoad(
  port: number,
  opts: {
    publishers: number;
    seconds: number;
    window?: number;
    totalRate?: number;
    payloadBytes?: number;
    topic?: string;
  },
): Promise<LoadResult> {
  const payload = Buffer.alloc(opts.payloadBytes ?? 200, 0x61);
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: opts.publishers }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: `bench-${i}-${process.pid}`,
        reconnectPeriod: 0,
      }),
    ),
  );
  for (const c of clients) (c.stream as unknown as { setNoDelay?(v: boolean): void }).setNoDelay?.(true);
  const latencies: number[] = [];
  const end = performance.now() + opts.seconds * 1000;
  const started = performance.now();
  const topic = opts.topic ?? 'bench/load';
  const publishOne = (c: MqttClient): Promise<void> => {
    const t0 = performance.now();
    return c.publishAsync(`${topic}/${c.options.clientId}`, payload, { qos: 1 }).then(() => {
      latencies.push(performance.now() - t0);
    });
  };
  if (opts.totalRate) {
    // open loop: each client publishes on its own timer, whether or not earlier acks came back
    const perClient = opts.totalRate / opts.publishers;
    const pending: Promise<void>[] = [];
    await Promise.all(
      clients.map(async (c, i) => {
        let next = performance.now() + (i / opts.publishers) * (1000 / perClient);
        while (performance.now() < end) {
          pending.push(publishOne(c));
          next += 1000 / perClient;
          const wait = next - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }),
    );
    await Promise.all(pending);
  } else {
    const window = opts.window ?? 16;
    await Promise.all(
      clients.map(async (c) => {
        const inflight = new Set<Promise<void>>();
        while (performance.now() < end) {
          const p: Promise<void> = publishOne(c).finally(() => inflight.delete(p));
          inflight.add(p);
          if (inflight.size >= window) await Promise.race(inflight);
        }
        await Promise.all(inflight);
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  latencies.sort((a, b) => a - b);
  return {
    publishers: opts.publishers,
    seconds,
    acked: latencies.length,
    rate: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
  };
}
