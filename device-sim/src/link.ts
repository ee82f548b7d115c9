/**
 * The seam between a simulated device and how its messages leave it. A
 * device only needs: come up, say when the link is up or down, send one
 * payload and learn when it was acknowledged, drop the link, close.
 *
 * MqttLink is the device speaking MQTT to the gateway. A serial device (the
 * same profiles over a pseudo-terminal, speaking the firmware-bridge protocol)
 * is another DeviceLink: its `send` resolves on the bridge's ACK, which the
 * bridge sends only after the gateway's PUBACK, so the ledger and the
 * verifier work unchanged. See serial.ts.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface LinkEvents {
  up(): void;
  down(): void;
  error(kind: string): void;
}

export interface DeviceLink {
  readonly connected: boolean;
  open(events: LinkEvents): void;
  /** resolves when the far end acknowledged (QoS 0: when written); rejects if it will not be */
  send(payload: Buffer, qos: 0 | 1 | 2): Promise<void>;
  /** lose the connection abruptly, as a device losing its network would; the link comes back by itself */
  drop(): void;
  close(): Promise<void>;
}

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  topic: string;
  username?: string;
  password?: string;
  reconnectPeriod: number;
}

export class MqttLink implements DeviceLink {
  private client: MqttClient | null = null;

  constructor(private readonly o: MqttLinkOptions) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  open(events: LinkEvents): void {
    const client = mqtt.connect(this.o.url, {
      clientId: this.o.clientId,
      username: this.o.username,
      password: this.o.password,
      reconnectPeriod: this.o.reconnectPeriod,
      connectTimeout: 10_000,
      clean: true,
      // the device decides what happens offline (buffer or skip), not the client library
      queueQoSZero: false,
    });
    this.client = client;
    client.on('connect', () => events.up());
    client.on('close', () => events.down());
    client.on('error', (err: Error & { code?: string | number }) => events.error(classify(err)));
  }

  send(payload: Buffer, qos: 0 | 1 | 2): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('link closed'));
    return new Promise((resolve, reject) =>
      client.publish(this.o.topic, payload, { qos }, (err) => (err ? reject(err) : resolve())),
    );
  }

  drop(): void {
    this.client?.stream?.destroy();
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await new Promise<void>((resolve) => c.end(true, {}, () => resolve()));
  }
}

function classify(err: Error & { code?: string | number }): string {
  if (typeof err.code === 'string') return err.code.toLowerCase();
  if (/refused|not authorized/i.test(err.message)) return 'connection_refused';
  return 'link_error';
}
