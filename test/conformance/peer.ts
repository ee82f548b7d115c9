/**
 * An MQTT 3.1.1 peer on a raw socket that speaks through mqtt-packet (the
 * codec aedes and mqtt.js use) and acknowledges nothing by itself, so a test
 * decides every PUBACK, PUBREC, PUBREL and PUBCOMP and sees every flag (DUP,
 * RETAIN, QoS, packet id) exactly as the broker sent it.
 */
import { randomUUID } from 'node:crypto';
import { type Socket, connect as tcp } from 'node:net';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';
import { afterAll, beforeAll } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { startInProcess } from '../support/in-process.js';

export type Cmd = Packet['cmd'];
export type PacketOf<C extends Cmd> = Extract<Packet, { cmd: C }>;

/** A unique topic prefix on the shared Mosquitto: tests never touch a topic outside it. */
export function topicRoot(): string {
  return `tidegate-conformance/${randomUUID().slice(0, 12)}`;
}
export const newId = (): string => `conf-${randomUUID().slice(0, 8)}`;

export type ConnectOptions = Partial<Omit<IConnectPacket, 'cmd'>>;

export class Peer {
  /** every packet received and not yet taken by next() */
  readonly inbox: Packet[] = [];
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => {
      this.inbox.push(p);
      this.wake();
    });
    // a broker that sends bytes mqtt-packet cannot parse fails the test that waits for them
    parser.on('error', () => this.socket.destroy());
    socket.on('data', (d) => parser.parse(d));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = tcp(port, '127.0.0.1', () => resolve(new Peer(s)));
      s.once('error', reject);
    });
  }

  /** Opens a connection, sends CONNECT and returns the peer once CONNACK 0 arrived. */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<Peer> {
    const peer = await Peer.open(port);
    const ack = await peer.handshake(opts);
    if (ack?.returnCode !== 0) throw new Error(`CONNACK ${ack?.returnCode ?? 'missing'}`);
    return peer;
  }

  handshake(opts: ConnectOptions = {}): Promise<IConnackPacket | null> {
    this.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId: newId(),
      ...opts,
    });
    return this.next('connack');
  }

  send(p: Packet): void {
    this.raw(mqttPacket.generate(p));
  }

  raw(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done() && !this.closed && Date.now() < end) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, Math.max(1, end - Date.now()));
      });
    }
  }

  /** Takes the first received packet of kind `cmd` (matching `where`), or null when none comes in time. */
  async next<C extends Cmd>(
    cmd: C,
    timeoutMs = 3000,
    where: (p: PacketOf<C>) => boolean = () => true,
  ): Promise<PacketOf<C> | null> {
    const find = () => this.inbox.findIndex((p) => p.cmd === cmd && where(p as PacketOf<C>));
    await this.waitFor(() => find() >= 0, timeoutMs);
    const i = find();
    return i >= 0 ? (this.inbox.splice(i, 1)[0] as PacketOf<C>) : null;
  }

  /** The PUBLISH on `topic`, taken from the inbox. */
  publishOn(topic: string, timeoutMs = 3000): Promise<PacketOf<'publish'> | null> {
    return this.next('publish', timeoutMs, (p) => p.topic === topic);
  }

  /** All PUBLISH packets received so far whose topic starts with `prefix`, taken from the inbox. */
  takePublishes(prefix = ''): Array<PacketOf<'publish'>> {
    const out: Array<PacketOf<'publish'>> = [];
    for (let i = 0; i < this.inbox.length; ) {
      const p = this.inbox[i]!;
      if (p.cmd === 'publish' && p.topic.startsWith(prefix)) {
        out.push(p);
        this.inbox.splice(i, 1);
      } else i++;
    }
    return out;
  }

  async subscribe(
    filters: string | Array<[string, 0 | 1 | 2]>,
    qos: 0 | 1 | 2 = 1,
    messageId = 1,
  ): Promise<number[]> {
    const list = typeof filters === 'string' ? [[filters, qos] as const] : filters;
    this.send({
      cmd: 'subscribe',
      messageId,
      subscriptions: list.map(([topic, q]) => ({ topic, qos: q })),
    });
    const ack = await this.next('suback', 3000, (p) => p.messageId === messageId);
    if (!ack) throw new Error(`no SUBACK for ${JSON.stringify(list)}`);
    // MQTT 3.1.1 SUBACK return codes are plain numbers (the object form is MQTT 5's)
    return ack.granted.map((g) => Number(g));
  }

  /** PUBLISH at QoS 0 or 1; at QoS 1 resolves when the PUBACK for `messageId` arrived. */
  async publish(
    topic: string,
    payload: string,
    qos: 0 | 1 = 0,
    retain = false,
    messageId = 1,
  ): Promise<void> {
    this.send({ cmd: 'publish', topic, payload, qos, retain, dup: false, messageId });
    if (qos === 1 && !(await this.next('puback', 3000, (p) => p.messageId === messageId)))
      throw new Error(`no PUBACK for ${topic}`);
  }

  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    await this.waitFor(() => false, timeoutMs);
    return this.closed;
  }

  /** Ends the connection without DISCONNECT (an abnormal close for the broker). */
  drop(): void {
    this.socket.destroy();
  }

  /** DISCONNECT, then close. */
  disconnect(): void {
    this.send({ cmd: 'disconnect' });
    this.socket.end();
  }
}

/** Tracks peers so afterAll can close what a failed test left open. */
export class Peers {
  private readonly all: Peer[] = [];
  constructor(private readonly port: () => number) {}
  async connect(opts: ConnectOptions = {}): Promise<Peer> {
    const p = await Peer.connect(this.port(), opts);
    this.all.push(p);
    return p;
  }
  async open(): Promise<Peer> {
    const p = await Peer.open(this.port());
    this.all.push(p);
    return p;
  }
  closeAll(): void {
    for (const p of this.all.splice(0)) p.drop();
  }
}

/**
 * Proves that nothing sent before it is still on its way to `sub`: `pub` publishes a marker at
 * QoS 1 on `topic` (which `sub` subscribes to) and the marker arrives. Both brokers deliver one
 * publisher's messages to one subscriber in the order they were received, so a message that has
 * not arrived by then was not delivered ("nothing came" without waiting on a timer).
 */
export async function barrier(pub: Peer, sub: Peer, topic: string): Promise<void> {
  const marker = `barrier-${randomUUID().slice(0, 6)}`;
  await pub.publish(topic, marker, 1, false, 65_000);
  const got = await sub.next('publish', 3000, (p) => p.topic === topic && String(p.payload) === marker);
  if (!got) throw new Error(`barrier on ${topic} did not arrive`);
  if (got.qos > 0 && got.messageId !== undefined) sub.send({ cmd: 'puback', messageId: got.messageId });
}

/**
 * The two brokers every conformance file runs against: tidegate (started in-process once
 * per file) and Mosquitto on 127.0.0.1:1883 as the reference.
 */
export function brokersUnderTest() {
  let gw: Gateway | undefined;
  beforeAll(async () => {
    gw = await startInProcess();
  });
  afterAll(async () => {
    await gw?.stop();
  });
  return [
    ['tidegate', () => gw!.broker.port],
    ['mosquitto', () => 1883],
  ] as const;
}
