/**
 * The bridge's protocol engine for one serial port (PROTOCOL.md §5-§7):
 * bytes -> FrameDecoder -> frames; HELLO opens a session bound to the
 * device's MQTT connection; DATA is published QoS 1 and ACKed only after the
 * gateway's PUBACK (§1: "an ACK from the bridge means stored"); everything
 * bad is NACKed with its reason or dropped silently where §7 says so, and
 * counted. At most one answer per received frame.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { CommandSender } from './command-sender.js';
import {
  bump,
  emptyPortCounters,
  type LatencyTracker,
  type PendingBudget,
  type PortCounters,
} from './counters.js';
import { commandBody, uplinkPayload } from './payload.js';
import {
  CRC_LENGTH,
  type DataFrame,
  type DecodeError,
  DuplicateFilter,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  frameTypeName,
  HEADER_LENGTH,
  type HelloFrame,
  type HelloInfo,
  isValidTopicSuffix,
  NackReason,
  nackReasonFor,
  nackReasonName,
} from './protocol/index.js';
import type { SerialLink } from './serial-link.js';
import type { DeviceUplink, UplinkOwner, UplinkPool } from './uplink.js';

export interface PortSessionDeps {
  pool: UplinkPool;
  budget: PendingBudget;
  latency: LatencyTracker;
  log: Logger;
  payloadMode: 'cbor' | 'json';
  commandMode: 'auto' | 'cbor' | 'json';
  maxQueuedCommands: number;
}

const UNSEQUENCED = new Set<number>([FrameType.Ack, FrameType.Nack, FrameType.Ping, FrameType.Pong]);

export class PortSession implements UplinkOwner {
  readonly counters: PortCounters = emptyPortCounters();
  readonly decoder = new FrameDecoder();
  device: (HelloInfo & { since: number }) | null = null;
  private uplink: DeviceUplink | null = null;
  private commands: CommandSender | null = null;
  private readonly dedup = new DuplicateFilter();
  /** bumped by every new or ended session, so a late PUBACK cannot touch a newer session's state */
  private generation = 0;

  constructor(
    readonly link: SerialLink,
    private readonly deps: PortSessionDeps,
  ) {
    link.on('data', (d) => this.onBytes(d));
    link.on('open', () => this.decoder.reset());
    link.on('close', (why) => this.endSession(`port closed: ${why}`));
  }

  get uplinkConnected(): boolean {
    return this.uplink?.connected ?? false;
  }

  get commandsQueued(): number {
    return this.commands?.queued ?? 0;
  }

  onBytes(chunk: Buffer): void {
    const receivedAt = performance.now();
    for (const r of this.decoder.push(chunk)) {
      if (r.ok) this.onFrame(r.frame, receivedAt);
      else this.onError(r);
    }
  }

  private onError(err: DecodeError): void {
    const reason = nackReasonFor(err.reason);
    this.deps.log.debug(
      { port: this.link.path, reason: err.reason, seq: err.seq, detail: err.detail },
      'bad frame',
    );
    if (reason === null || err.seq === undefined) return;
    // §7: never NACK an ACK/NACK/PING/PONG (no NACK loops). After a CRC error the type byte
    // is only a hint, but a damaged answer is as pointless to NACK as an intact one.
    if (err.type !== undefined && UNSEQUENCED.has(err.type)) return;
    this.sendNack(err.seq, reason);
  }

  private onFrame(f: Frame, receivedAt: number): void {
    bump(this.counters.framesIn, frameTypeName(f.type));
    switch (f.type) {
      case FrameType.Hello:
        this.startSession(f);
        return;
      case FrameType.Data:
        if (!this.device) {
          this.sendNack(f.seq, NackReason.NotHello);
          return;
        }
        this.onData(f, receivedAt);
        return;
      case FrameType.Ack:
        if (this.commands?.onAck(f.seq)) this.counters.acksReceived++;
        else this.counters.stale++;
        return;
      case FrameType.Nack:
        bump(this.counters.nacksReceived, nackReasonName(f.reason));
        if (!this.commands?.onNack(f.seq, f.reason)) this.counters.stale++;
        return;
      case FrameType.Command:
        this.sendNack(f.seq, NackReason.UnknownType);
        return;
      case FrameType.Ping:
        if (!this.device) {
          this.sendNack(f.seq, NackReason.NotHello);
          return;
        }
        this.send(encodeFrame({ type: FrameType.Pong, seq: f.seq }), FrameType.Pong);
        return;
      case FrameType.Pong:
        this.counters.stale++;
        return;
    }
  }

  /** §5.1/§6.5: HELLO always starts a new session, replaces its state, and is ACKed. */
  private startSession(f: HelloFrame): void {
    const h = f.hello;
    if (this.device && this.device.deviceId !== h.deviceId) this.endSession('new device id');
    this.commands?.stop('new session');
    this.generation++;
    this.counters.sessions++;
    this.dedup.reset(f.seq);
    this.device = { ...h, since: Date.now() };
    this.uplink = this.deps.pool.acquire(h.deviceId, this);
    this.commands = new CommandSender(this.commandHooks(), this.deps.maxQueuedCommands);
    this.deps.log.info(
      { port: this.link.path, device: h.deviceId, fw: h.firmware, caps: h.capabilities },
      'device session started',
    );
    this.sendAck(f.seq);
  }

  private onData(f: DataFrame, receivedAt: number): void {
    const kind = this.dedup.classify(f.seq);
    if (kind === 'in-progress') {
      this.counters.inProgress++; // §6.5: the ACK follows when the store commits
      return;
    }
    if (kind === 'duplicate') {
      this.counters.duplicates++;
      this.sendAck(f.seq);
      return;
    }
    const payload = uplinkPayload(f.body, this.deps.payloadMode);
    const { budget, pool } = this.deps;
    if (!budget.tryReserve(payload.length)) {
      this.sendNack(f.seq, NackReason.Busy);
      return;
    }
    const uplink = this.uplink!;
    const generation = this.generation;
    this.dedup.begin(f.seq);
    uplink.publish(f.topic, payload).then(
      () => {
        budget.release(payload.length);
        this.counters.published++;
        if (generation === this.generation) {
          this.dedup.commit(f.seq);
          if (this.sendAck(f.seq)) this.deps.latency.add(performance.now() - receivedAt);
        }
        pool.endIfIdle(uplink);
      },
      (err: Error) => {
        budget.release(payload.length);
        // §6.5: not recorded, so the retransmission is processed as new
        if (generation === this.generation) {
          this.dedup.abort(f.seq);
          this.sendNack(f.seq, NackReason.Busy);
        }
        this.deps.log.warn({ device: uplink.deviceId, err: err.message }, 'publish failed');
        pool.endIfIdle(uplink);
      },
    );
  }

  /** A COMMAND from the gateway for this session's device (§5.5). */
  onCommand(suffix: string, payload: Buffer): void {
    const dev = this.device;
    const drop = (reason: string) => {
      bump(this.counters.commandsDropped, reason);
      this.deps.log.warn({ device: dev?.deviceId, command: suffix, reason }, 'command dropped');
    };
    if (!dev || !this.commands) {
      drop('no-session');
      return;
    }
    if (!dev.capabilities.includes('cmd')) {
      drop('no-cmd');
      return;
    }
    const topicBytes = Buffer.byteLength(suffix);
    if (topicBytes > 255 || !isValidTopicSuffix(Buffer.from(suffix))) {
      drop('bad-topic');
      return;
    }
    const body = commandBody(payload, this.deps.commandMode);
    if (!body.ok) {
      drop('bad-payload');
      return;
    }
    if (HEADER_LENGTH + 1 + topicBytes + body.body.length + CRC_LENGTH > dev.maxFrame) {
      drop('oversize');
      return;
    }
    if (!this.commands.enqueue(suffix, body.body)) drop('queue-full');
  }

  takenOver(): void {
    this.deps.log.warn(
      { port: this.link.path, device: this.device?.deviceId },
      'device said HELLO on another port',
    );
    this.uplink = null;
    this.endSession('device moved to another port');
  }

  endSession(why: string): void {
    if (!this.device) return;
    this.deps.log.info({ port: this.link.path, device: this.device.deviceId, why }, 'device session ended');
    if (this.uplink) this.deps.pool.release(this.device.deviceId, this);
    this.commands?.stop(why);
    this.commands = null;
    this.uplink = null;
    this.device = null;
    this.generation++;
    this.dedup.reset();
  }

  private commandHooks() {
    return {
      write: (wire: Buffer, type: FrameType) => this.send(wire, type),
      sent: () => this.counters.commandsSent++,
      acked: () => this.counters.commandsAcked++,
      failed: (seq: number, topic: string, why: string) => {
        this.counters.commandsFailed++;
        this.deps.log.warn({ port: this.link.path, seq, command: topic, why }, 'command failed');
      },
    };
  }

  private send(wire: Buffer, type: FrameType): boolean {
    if (!this.link.write(wire)) return false;
    bump(this.counters.framesOut, frameTypeName(type));
    this.counters.bytesOut += wire.length;
    return true;
  }

  private sendAck(seq: number): boolean {
    const ok = this.send(encodeFrame({ type: FrameType.Ack, seq }), FrameType.Ack);
    if (ok) this.counters.acksSent++;
    return ok;
  }

  private sendNack(seq: number, reason: NackReason): void {
    if (this.send(encodeFrame({ type: FrameType.Nack, seq, reason }), FrameType.Nack))
      bump(this.counters.nacksSent, nackReasonName(reason));
  }
}
