/**
 * Downlink to one device: COMMAND frames sent stop-and-wait (PROTOCOL.md §6):
 * one outstanding at a time, retransmitted with the same seq and bytes after
 * min(500 ms * 2^(k-1), 4 s), given up after 5 transmissions (§7: "reported as
 * failed"); NACKs handled by nackAction() (busy backs off without using a try).
 * A bounded queue holds the commands waiting behind the outstanding one.
 */
import {
  ACK_TIMEOUT_MS,
  ackTimeoutMs,
  BUSY_BACKOFF_MAX_MS,
  BUSY_BACKOFF_MS,
  encodeFrame,
  FrameType,
  MAX_TRIES,
  nackAction,
  nackReasonName,
  nextSeq,
} from './protocol/index.js';

export interface CommandSenderHooks {
  /** writes wire bytes to the device; false when the port is not open */
  write(wire: Buffer, type: FrameType): boolean;
  sent(): void;
  acked(seq: number, topic: string): void;
  failed(seq: number, topic: string, why: string): void;
}

interface Outstanding {
  seq: number;
  topic: string;
  wire: Buffer;
  tries: number;
  busyDelay: number;
  timer: NodeJS.Timeout | null;
}

export class CommandSender {
  private seq = Math.floor(Math.random() * 0x10000);
  private readonly queue: Array<{ topic: string; body: Buffer }> = [];
  private current: Outstanding | null = null;
  private stopped = false;

  constructor(
    private readonly hooks: CommandSenderHooks,
    private readonly maxQueued: number,
    /** §6.2 base timeout; tests may shorten it */
    private readonly baseTimeoutMs = ACK_TIMEOUT_MS,
  ) {}

  get outstandingSeq(): number | null {
    return this.current?.seq ?? null;
  }

  get queued(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** false when the queue is full (the caller counts the drop). */
  enqueue(topic: string, body: Buffer): boolean {
    if (this.stopped || this.queue.length >= this.maxQueued) return false;
    this.queue.push({ topic, body });
    if (!this.current) this.next();
    return true;
  }

  /** An ACK from the device: true when it answered the outstanding COMMAND. */
  onAck(seq: number): boolean {
    const c = this.current;
    if (!c || c.seq !== seq) return false;
    this.finish();
    this.hooks.acked(c.seq, c.topic);
    this.next();
    return true;
  }

  /** A NACK from the device: true when it answered the outstanding COMMAND. */
  onNack(seq: number, reason: number): boolean {
    const c = this.current;
    if (!c || c.seq !== seq) return false;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    switch (nackAction(reason)) {
      case 'retransmit':
        if (c.tries >= MAX_TRIES) this.fail(`NACK ${nackReasonName(reason)} after ${c.tries} tries`);
        else this.transmit();
        break;
      case 'backoff': {
        const wait = c.busyDelay;
        c.busyDelay = Math.min(BUSY_BACKOFF_MAX_MS, c.busyDelay * 2);
        c.tries--; // §5.4: busy does not count as a try
        c.timer = setTimeout(() => this.transmit(), wait);
        break;
      }
      default:
        this.fail(`NACK ${nackReasonName(reason)}`);
    }
    return true;
  }

  private next(): void {
    if (this.stopped || this.current) return;
    const item = this.queue.shift();
    if (!item) return;
    const seq = this.seq;
    this.seq = nextSeq(this.seq);
    this.current = {
      seq,
      topic: item.topic,
      wire: encodeFrame({ type: FrameType.Command, seq, topic: item.topic, body: item.body }),
      tries: 0,
      busyDelay: BUSY_BACKOFF_MS,
      timer: null,
    };
    this.hooks.sent();
    this.transmit();
  }

  private transmit(): void {
    const c = this.current;
    if (!c || this.stopped) return;
    c.tries++;
    this.hooks.write(c.wire, FrameType.Command);
    c.timer = setTimeout(
      () => {
        c.timer = null;
        if (c.tries >= MAX_TRIES) this.fail(`no answer after ${c.tries} transmissions`);
        else this.transmit();
      },
      ackTimeoutMs(c.tries, this.baseTimeoutMs),
    );
  }

  private finish(): void {
    const c = this.current;
    if (c?.timer) clearTimeout(c.timer);
    this.current = null;
  }

  private fail(why: string): void {
    const c = this.current;
    if (!c) return;
    this.finish();
    this.hooks.failed(c.seq, c.topic, why);
    this.next();
  }

  /** Drops everything (session ended); queued and outstanding commands count as failed. */
  stop(why: string): void {
    if (this.stopped) return;
    const c = this.current;
    this.finish();
    this.stopped = true;
    if (c) this.hooks.failed(c.seq, c.topic, why);
    for (const q of this.queue.splice(0)) this.hooks.failed(-1, q.topic, why);
  }
}
