/**
 * Devices for e2e tests: each publishes numbered QoS 1 messages with a window
 * of in-flight publishes, and records which sequence numbers got a PUBACK.
 * It survives the gateway dying: unacknowledged messages are simply not counted.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface Ledger {
  /** device id -> acknowledged sequence numbers */
  acked: Map<string, Set<number>>;
  sent: number;
}

export function newLedger(): Ledger {
  return { acked: new Map(), sent: 0 };
}

/**
 * One connection attempt that always settles: mqtt.js' connectAsync can wait forever when the
 * broker dies between TCP connect and CONNACK (it listens for 'connect' and 'error', not 'close').
 */
function connectOnce(port: number, clientId: string): Promise<MqttClient | null> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 2000,
    });
    const fail = () => {
      c.end(true);
      resolve(null);
    };
    c.once('connect', () => {
      c.off('close', fail);
      c.off('error', fail);
      resolve(c);
    });
    c.once('close', fail);
    c.once('error', fail);
  });
}

export interface PublishRun {
  stop(): Promise<void>;
}

/** Starts `devices` clients publishing to port until stop(); reconnects each time the broker comes back. */
export function publishLoad(
  port: number,
  devices: number,
  ledger: Ledger,
  opts: { window?: number; prefix?: string; payloadBytes?: number; qos?: 1 | 2 } = {},
): PublishRun {
  let running = true;
  const window = opts.window ?? 8;
  const prefix = opts.prefix ?? 'dev';
  const next = new Map<string, number>();
  const pad = 'x'.repeat(opts.payloadBytes ?? 0);
  const loops: Promise<void>[] = [];
  for (let d = 0; d < devices; d++) {
    const id = `${prefix}-${d}`;
    ledger.acked.set(id, ledger.acked.get(id) ?? new Set());
    loops.push(
      (async () => {
        while (running) {
          const client = await connectOnce(port, id);
          if (!client) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const closed = new Promise<void>((r) => client.once('close', () => r()));
          let alive = true;
          void closed.then(() => {
            alive = false;
          });
          const inflight = new Set<Promise<void>>();
          while (running && alive) {
            const seq = (next.get(id) ?? 0) + 1;
            next.set(id, seq);
            ledger.sent++;
            const p: Promise<void> = client
              .publishAsync(`devices/${id}/telemetry`, JSON.stringify({ d: id, seq, pad }), {
                qos: opts.qos ?? 1,
              })
              .then(
                () => {
                  ledger.acked.get(id)!.add(seq);
                },
                () => undefined,
              )
              .finally(() => inflight.delete(p));
            inflight.add(p);
            if (inflight.size >= window) await Promise.race([...inflight, closed]);
          }
          if (alive) {
            // wait for outstanding acks, but never forever (a broker that stopped answering)
            await Promise.race([Promise.all(inflight), closed, new Promise((r) => setTimeout(r, 5000))]);
            client.end(true);
          }
          client.end(true);
        }
      })(),
    );
  }
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
