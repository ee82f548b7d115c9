/**
 * Hand-made MQTT 3.1.1 packets on a raw socket, for tests that must send what a
 * well-behaved client library never would (empty client ids with clean=false,
 * CONNECT twice, PUBLISH before CONNECT, broken bytes).
 */
import { connect, type Socket } from 'node:net';

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

export function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), remainingLength(body.length), body]);
}

export interface ConnectOpts {
  clientId: string;
  clean?: boolean;
  keepalive?: number;
  username?: string;
  password?: string;
  will?: { topic: string; payload: string; qos?: number; retain?: boolean };
  protocolLevel?: number;
  reservedFlag?: boolean;
}

export function connectPacket(o: ConnectOpts): Buffer {
  let flags = 0;
  if (o.clean ?? true) flags |= 0x02;
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
  if (o.password !== undefined) flags |= 0x40;
  if (o.username !== undefined) flags |= 0x80;
  if (o.reservedFlag) flags |= 0x01;
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(o.keepalive ?? 60);
  const parts = [str('MQTT'), Buffer.from([o.protocolLevel ?? 4, flags]), ka, str(o.clientId)];
  if (o.will) parts.push(str(o.will.topic), str(o.will.payload));
  if (o.username !== undefined) parts.push(str(o.username));
  if (o.password !== undefined) parts.push(str(o.password));
  return packet(1, 0, Buffer.concat(parts));
}

export function publishPacket(
  topic: string,
  payload: string,
  qos = 0,
  messageId = 1,
  retain = false,
): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(messageId);
  const body = Buffer.concat([str(topic), qos > 0 ? id : Buffer.alloc(0), Buffer.from(payload)]);
  return packet(3, (qos << 1) | (retain ? 1 : 0), body);
}

export function subscribePacket(filters: string | string[], qos = 0, messageId = 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(messageId);
  const list = typeof filters === 'string' ? [filters] : filters;
  return packet(8, 2, Buffer.concat([id, ...list.flatMap((f) => [str(f), Buffer.from([qos])])]));
}

export interface Received {
  type: number;
  flags: number;
  body: Buffer;
}

/** A raw connection that splits what it receives into packets. */
export class RawClient {
  readonly packets: Received[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.split();
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  private split(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (;;) {
        if (i >= this.buf.length) return;
        const b = this.buf[i++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      if (this.buf.length < i + len) return;
      this.packets.push({
        type: this.buf[0]! >> 4,
        flags: this.buf[0]! & 15,
        body: this.buf.subarray(i, i + len),
      });
      this.buf = this.buf.subarray(i + len);
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for a packet of `type` (removing it from the list), or null if the connection closes first. */
  async next(type: number, timeoutMs = 3000): Promise<Received | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.packets.findIndex((p) => p.type === type);
      if (i >= 0) return this.packets.splice(i, 1)[0]!;
      if (this.closed || Date.now() > end) return null;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, Math.max(1, end - Date.now()));
      });
    }
  }

  /** Resolves true when the server closes the connection within timeoutMs. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, Math.max(1, end - Date.now()));
      });
    }
    return this.closed;
  }

  /** CONNACK as [sessionPresent, returnCode], or null if none came. */
  async connack(timeoutMs = 3000): Promise<[number, number] | null> {
    const p = await this.next(2, timeoutMs);
    return p ? [p.body[0]!, p.body[1]!] : null;
  }

  close(): void {
    this.socket.destroy();
  }
}

export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const SUBACK = 9;
export const PINGRESP = 13;
