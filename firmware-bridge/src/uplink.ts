/**
 * The bridge's side of the gateway: one MQTT connection per device, whose
 * client id is the device id. Why one per device and not one for the bridge:
 * - the gateway names a record's device by its MQTT client id (routes without
 *   a +deviceId wildcard), and its default ACL lets a client publish only
 *   under devices/<its client id>/ and read only its own commands;
 * - the status page's device table then shows serial devices like any other;
 * - one device's un-acknowledged backlog or a refused publish (which closes
 *   the connection) never stalls another device's PUBACKs.
 * The cost is one TCP connection per serial port, which is nothing at the
 * scale of the ports on one box.
 *
 * PUBACKs arrive in order per connection; mqtt.js keeps un-acknowledged QoS 1
 * publishes in memory and sends them again after a reconnect, which is the
 * in-memory buffer that carries the bridge over a gateway restart.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface UplinkOptions {
  url: string;
  username?: string;
  password?: string;
  topicPrefix: string;
  keepaliveMs: number;
  connectTimeoutMs: number;
  reconnectPeriodMs: number;
}

/** Whoever serves the device right now (a port session). */
export interface UplinkOwner {
  onCommand(suffix: string, payload: Buffer): void;
  /** the same device id said HELLO on another port */
  takenOver(): void;
}

export class DeviceUplink {
  readonly client: MqttClient;
  owner: UplinkOwner | null = null;
  /** publishes awaiting PUBACK */
  pending = 0;
  connects = 0;
  private readonly base: string;

  constructor(
    readonly deviceId: string,
    opts: UplinkOptions,
  ) {
    this.base = `${opts.topicPrefix}/${deviceId}`;
    const options: IClientOptions = {
      clientId: deviceId,
      clean: true,
      keepalive: Math.max(1, Math.round(opts.keepaliveMs / 1000)),
      connectTimeout: opts.connectTimeoutMs,
      reconnectPeriod: opts.reconnectPeriodMs,
      protocolVersion: 4,
      resubscribe: true,
    };
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    this.client = mqtt.connect(opts.url, options);
    this.client.on('connect', () => this.connects++);
    // connection errors are retried by mqtt.js; they must not become unhandled 'error' events
    this.client.on('error', () => undefined);
    const commands = `${this.base}/commands`;
    this.client.subscribe(`${commands}/#`, { qos: 1 });
    this.client.on('message', (topic, payload) => {
      if (topic !== commands && !topic.startsWith(`${commands}/`)) return;
      this.owner?.onCommand(topic.slice(commands.length + 1), payload);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  topicFor(suffix: string): string {
    return suffix === '' ? this.base : `${this.base}/${suffix}`;
  }

  /** QoS 1 publish; resolves on the gateway's PUBACK, rejects if the client is ended first. */
  publish(suffix: string, payload: Buffer): Promise<void> {
    this.pending++;
    return new Promise<void>((resolve, reject) => {
      this.client.publish(this.topicFor(suffix), payload, { qos: 1 }, (err) => {
        this.pending--;
        if (err) reject(err);
        else resolve();
      });
    });
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()));
  }
}

/** The device connections, by device id. A device id lives on one port at a time. */
export class UplinkPool {
  private readonly uplinks = new Map<string, DeviceUplink>();

  constructor(private readonly opts: UplinkOptions) {}

  /** The device's connection, now owned by `owner`; a previous owner on another port is told. */
  acquire(deviceId: string, owner: UplinkOwner): DeviceUplink {
    let u = this.uplinks.get(deviceId);
    if (!u) {
      u = new DeviceUplink(deviceId, this.opts);
      this.uplinks.set(deviceId, u);
    }
    const previous = u.owner;
    u.owner = owner;
    if (previous && previous !== owner) previous.takenOver();
    return u;
  }

  /** The owner is gone (port closed, new session); the connection ends once nothing is pending. */
  release(deviceId: string, owner: UplinkOwner): void {
    const u = this.uplinks.get(deviceId);
    if (!u || u.owner !== owner) return;
    u.owner = null;
    this.endIfIdle(u);
  }

  /** Called after each PUBACK of an ownerless connection. */
  endIfIdle(u: DeviceUplink): void {
    if (u.owner !== null || u.pending > 0 || this.uplinks.get(u.deviceId) !== u) return;
    this.uplinks.delete(u.deviceId);
    void u.end();
  }

  list(): DeviceUplink[] {
    return [...this.uplinks.values()];
  }

  async stop(): Promise<void> {
    const all = [...this.uplinks.values()];
    this.uplinks.clear();
    await Promise.all(all.map((u) => u.end()));
  }
}
