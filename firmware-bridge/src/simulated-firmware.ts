/**
 * A device in TypeScript that speaks PROTOCOL.md over a serial path (a PTY in
 * tests, a real UART on a bench): HELLO, DATA with the §6 retransmission rules
 * (same seq, doubling timeout, NACK handling, PING while the link is down),
 * COMMANDs ACKed with duplicate suppression, PINGs answered. Exported for
 * device-sim, which drives serial devices with it.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { PacedWriter } from './paced-writer.js';
import {
  ackTimeoutMs,
  BUSY_BACKOFF_MAX_MS,
  BUSY_BACKOFF_MS,
  type CborEncodable,
  type CommandFrame,
  encodeCbor,
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameInput,
  FrameType,
  LINK_PROBE_INTERVAL_MS,
  MAX_TRIES,
  nackAction,
  nackReasonName,
  nextSeq,
} from './protocol/index.js';

export interface SimulatedFirmwareOptions {
  path: string;
  deviceId: string;
  firmware?: string;
  /** default ["cmd"] */
  capabilities?: string[];
  maxFrame?: number;
  baudRate?: number;
  /** pace writes to this many baud (PTYs are otherwise as fast as memory) */
  paceBaud?: number;
  firstSeq?: number;
  /** §6.2 first ACK timeout (500 ms) */
  ackTimeoutMs?: number;
  maxTries?: number;
  /** §6.4 PING interval while the link is down (5 s) */
  probeIntervalMs?: number;
  /** PINGs before a send gives up while the link is down (default: never) */
  maxProbes?: number;
  busyBackoffMs?: number;
}

export interface SendResult {
  ok: boolean;
  seq: number;
  /** transmissions, retransmissions included */
  tries: number;
  /** NACK reasons received for this frame, in order */
  nacks: string[];
  /** ms from first transmission to the ACK (or to giving up) */
  elapsedMs: number;
  /** why it failed: a permanent NACK reason, or "link-down" */
  failure?: string;
}

type Answer = { type: FrameType.Ack | FrameType.Nack | FrameType.Pong; seq: number; reason?: number };

export class SimulatedFirmware extends EventEmitter<{ frame: [Frame]; command: [CommandFrame] }> {
  readonly commands: CommandFrame[] = [];
  readonly decoder = new FrameDecoder();
  /** answers (ACK/NACK/PONG) received, with their arrival time (performance.now()) */
  readonly answers: Array<Answer & { at: number }> = [];
  private port: SerialPort | null = null;
  private paced: PacedWriter | null = null;
  private seq: number;
  private lastCommandSeq: number | null = null;
  private waiters: Array<{ match: (a: Answer) => boolean; resolve: (a: Answer) => void }> = [];
  private readonly o: Required<Omit<SimulatedFirmwareOptions, 'paceBaud' | 'maxFrame'>> &
    SimulatedFirmwareOptions;

  constructor(options: SimulatedFirmwareOptions) {
    super();
    this.o = {
      firmware: 'sim-1.0',
      capabilities: ['cmd'],
      baudRate: 115200,
      firstSeq: Math.floor(Math.random() * 0x10000),
      ackTimeoutMs: 500,
      maxTries: MAX_TRIES,
      probeIntervalMs: LINK_PROBE_INTERVAL_MS,
      maxProbes: Number.POSITIVE_INFINITY,
      busyBackoffMs: BUSY_BACKOFF_MS,
      ...options,
    };
    this.seq = this.o.firstSeq;
  }

  get nextSeq(): number {
    return this.seq;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate, autoOpen: false });
    port.on('error', () => undefined);
    port.on('data', (d: Buffer) => this.onBytes(d));
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    this.decoder.reset();
    if (this.o.paceBaud) this.paced = new PacedWriter(this.o.paceBaud, (c) => port.write(c));
    this.writeRaw(Buffer.from([0])); // §2: flush line noise before the first frame
  }

  async close(): Promise<void> {
    const p = this.port;
    this.port = null;
    this.paced?.stop();
    this.paced = null;
    if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
  }

  /** Bytes as they are, paced if configured. Lost silently when the port is closed. */
  writeRaw(bytes: Buffer): void {
    if (!this.port?.isOpen) return;
    if (this.paced) this.paced.write(bytes);
    else this.port.write(bytes);
  }

  /** Resolves when written bytes have left the process. */
  async drain(): Promise<void> {
    await this.paced?.drained();
    const p = this.port;
    if (p?.isOpen) await new Promise<void>((resolve) => p.drain(() => resolve()));
  }

  /** One frame, sent once, no waiting (for tests that script the exchange themselves). */
  sendFrame(frame: FrameInput): void {
    this.writeRaw(encodeFrame(frame));
  }

  /** Takes the next sequence number (for frames sent with sendFrame()). */
  takeSeq(): number {
    const s = this.seq;
    this.seq = nextSeq(this.seq);
    return s;
  }

  hello(): Promise<SendResult> {
    const seq = this.takeSeq();
    this.lastCommandSeq = null; // §6.5: a new session forgets the COMMAND seq
    const wire = encodeFrame({
      type: FrameType.Hello,
      seq,
      hello: {
        deviceId: this.o.deviceId,
        firmware: this.o.firmware,
        capabilities: this.o.capabilities,
        ...(this.o.maxFrame ? { maxFrame: this.o.maxFrame } : {}),
      },
    });
    return this.reliable(seq, wire, FrameType.Hello);
  }

  /** DATA with a CBOR body (a value to encode, or raw CBOR bytes), sent until ACKed or given up. */
  sendData(topic: string, body: CborEncodable | Buffer): Promise<SendResult> {
    const seq = this.takeSeq();
    const bytes = Buffer.isBuffer(body) ? body : encodeCbor(body);
    return this.reliable(seq, encodeFrame({ type: FrameType.Data, seq, topic, body: bytes }), FrameType.Data);
  }

  /** PING; resolves to 'pong', a NACK reason name, or 'timeout'. */
  async ping(timeoutMs = 1000): Promise<string> {
    const seq = this.seq; // §5.6: PING is unsequenced, any seq works as a token
    const wait = this.waitAnswer((a) => a.seq === seq && a.type !== FrameType.Ack, timeoutMs);
    this.writeRaw(encodeFrame({ type: FrameType.Ping, seq }));
    const a = await wait;
    if (!a) return 'timeout';
    return a.type === FrameType.Pong ? 'pong' : nackReasonName(a.reason ?? 0);
  }

  /** The next answer (ACK/NACK/PONG) that `match`es, or null after timeoutMs. */
  waitAnswer(match: (a: Answer) => boolean, timeoutMs: number): Promise<Answer | null> {
    return new Promise((resolve) => {
      const w = {
        match,
        resolve: (a: Answer | null) => {
          clearTimeout(t);
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(a);
        },
      };
      const t = setTimeout(() => w.resolve(null), timeoutMs);
      this.waiters.push(w);
    });
  }

  private async reliable(seq: number, wire: Buffer, type: FrameType): Promise<SendResult> {
    const start = performance.now();
    const nacks: string[] = [];
    let tries = 0;
    let busy = this.o.busyBackoffMs;
    const result = (ok: boolean, failure?: string): SendResult => ({
      ok,
      seq,
      tries,
      nacks,
      elapsedMs: performance.now() - start,
      ...(failure ? { failure } : {}),
    });
    for (;;) {
      if (tries >= this.o.maxTries) {
        if (!(await this.probeLink())) return result(false, 'link-down');
        tries = 0;
      }
      const answer = this.waitAnswer(
        (a) => a.seq === seq && (a.type === FrameType.Ack || a.type === FrameType.Nack),
        ackTimeoutMs(tries + 1, this.o.ackTimeoutMs),
      );
      this.writeRaw(wire);
      tries++;
      const a = await answer;
      if (!a) continue;
      if (a.type === FrameType.Ack) return result(true);
      const reason = a.reason ?? 0;
      nacks.push(nackReasonName(reason));
      switch (nackAction(reason)) {
        case 'retransmit':
          break;
        case 'backoff':
          tries--;
          await new Promise((r) => setTimeout(r, busy));
          busy = Math.min(BUSY_BACKOFF_MAX_MS, busy * 2);
          break;
        case 'hello': {
          if (type === FrameType.Hello) return result(false, 'not-hello');
          const h = await this.hello();
          if (!h.ok) return result(false, h.failure);
          tries = 0;
          break;
        }
        default:
          return result(false, nackReasonName(reason));
      }
    }
  }

  /** §6.4: PING every probe interval until anything answers. */
  private async probeLink(): Promise<boolean> {
    for (let i = 0; i < this.o.maxProbes; i++) {
      if (!this.isOpen) return false;
      const r = await this.ping(this.o.probeIntervalMs);
      if (r !== 'timeout') return true;
    }
    return false;
  }

  private onBytes(d: Buffer): void {
    for (const r of this.decoder.push(d)) {
      if (!r.ok) continue; // a device NACKs bad COMMANDs; the bridge never sends any in these tests
      const f = r.frame;
      this.emit('frame', f);
      switch (f.type) {
        case FrameType.Ack:
        case FrameType.Nack:
        case FrameType.Pong: {
          const a: Answer =
            f.type === FrameType.Nack
              ? { type: f.type, seq: f.seq, reason: f.reason }
              : { type: f.type, seq: f.seq };
          this.answers.push({ ...a, at: performance.now() });
          if (this.answers.length > 10_000) this.answers.splice(0, 5_000);
          for (const w of [...this.waiters]) if (w.match(a)) w.resolve(a);
          break;
        }
        case FrameType.Command:
          this.writeRaw(encodeFrame({ type: FrameType.Ack, seq: f.seq }));
          if (f.seq === this.lastCommandSeq) break; // §6.5 duplicate: ACK again, do not execute again
          this.lastCommandSeq = f.seq;
          this.commands.push(f);
          this.emit('command', f);
          break;
        case FrameType.Ping:
          this.writeRaw(encodeFrame({ type: FrameType.Pong, seq: f.seq }));
          break;
        default:
          this.writeRaw(encodeFrame({ type: FrameType.Nack, seq: f.seq, reason: 0x05 }));
      }
    }
  }
}
