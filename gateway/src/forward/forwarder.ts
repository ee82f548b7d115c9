/**
 * One forwarder per sink: read a batch in seq order, hand it to the sink, and
 * remove it from the queue only after the sink resolved (upstream ack). On
 * failure: retry the same batch with backoff (order is kept: nothing behind
 * it goes first). Non-retriable failures move the batch to dead letters.
 * Each forwarder runs on its own, so a slow or dead sink never blocks another.
 */
import type { StoredRecord } from '../contracts/record.js';
import { errorCode, errorMessage, isRetriable, SinkError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { Queue } from '../queue/queue.js';
import { type BackoffPolicy, backoffDelay, sleep } from './retry.js';
import type { Sink } from './sink.js';

export interface ForwarderOptions {
  gatewayId: string;
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
  sendTimeoutMs: number;
  retry: BackoffPolicy;
  /** how often to look at the queue when nothing wakes the loop */
  idlePollMs?: number;
}

export type SinkState = 'starting' | 'up' | 'retrying' | 'down' | 'paused' | 'stopped';

export interface SinkHealth {
  state: SinkState;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
  consecutiveFailures: number;
  /** records per second over the last minute of sends */
  drainRate: number;
}

export class Forwarder {
  private abort = new AbortController();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private cursor = 0;
  private removing: Promise<unknown> = Promise.resolve();
  private paused = false;
  /** the upstream asked us to wait this long (HTTP Retry-After) */
  private retryAfterMs = 0;
  private readonly sent: Array<{ at: number; n: number }> = [];
  readonly health: SinkHealth = {
    state: 'starting',
    lastError: null,
    lastErrorAt: null,
    lastSuccessAt: null,
    consecutiveFailures: 0,
    drainRate: 0,
  };

  constructor(
    readonly name: string,
    private readonly sink: Sink,
    private readonly queue: Queue,
    private readonly opts: ForwarderOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.loop) return;
    this.abort = new AbortController();
    try {
      await this.sink.start();
    } catch (err) {
      // an unreachable upstream at start is an outage, not a fatal error: the loop retries
      this.fail(err);
    }
    this.loop = this.run();
  }

  /** Called after new messages for this sink were committed. */
  notify(): void {
    this.wake?.();
  }

  pause(): void {
    this.paused = true;
    this.health.state = 'paused';
  }

  resume(): void {
    this.paused = false;
    if (this.health.state === 'paused') this.health.state = 'starting';
    this.notify();
  }

  private waitForWork(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private fail(err: unknown): void {
    this.health.consecutiveFailures++;
    this.health.lastError = errorMessage(err);
    this.health.lastErrorAt = Date.now();
    this.health.state = this.health.consecutiveFailures >= 3 ? 'down' : 'retrying';
    this.metrics.sinkUp.set({ sink: this.name }, 0);
    this.metrics.errors.inc({ stage: 'sink', code: errorCode(err) });
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const idle = this.opts.idlePollMs ?? 1000;
    while (!signal.aborted) {
      if (this.paused) {
        await this.waitForWork(idle);
        continue;
      }
      let batch = this.queue.read(this.name, this.cursor, this.opts.maxRecords, this.opts.maxBytes);
      if (batch.length === 0) {
        if (this.health.state === 'starting' && this.health.consecutiveFailures === 0)
          this.health.state = 'up';
        await this.waitForWork(idle);
        continue;
      }
      if (batch.length < this.opts.maxRecords && this.opts.lingerMs > 0) {
        // a small backlog: give the batch a moment to fill (a large backlog never waits)
        await sleep(this.opts.lingerMs, signal);
        if (signal.aborted) break;
        batch = this.queue.read(this.name, this.cursor, this.opts.maxRecords, this.opts.maxBytes);
      }
      const ok = await this.deliver(batch);
      if (!ok && !signal.aborted) {
        // honour an upstream's Retry-After, but never wait more than 15 minutes on its word
        const delay = Math.max(
          backoffDelay(this.opts.retry, this.health.consecutiveFailures),
          Math.min(this.retryAfterMs, 900_000),
        );
        await sleep(delay, signal);
      }
    }
  }

  /** One attempt at one batch; true when it left the queue (sent or dead-lettered). */
  private async deliver(batch: StoredRecord[]): Promise<boolean> {
    const last = batch[batch.length - 1]!;
    const deadline = new AbortController();
    const onStop = () => deadline.abort(new SinkError('gateway stopping', 'STOPPING', true));
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(
      () =>
        deadline.abort(
          new SinkError(
            `upstream did not acknowledge within ${this.opts.sendTimeoutMs} ms`,
            'SEND_TIMEOUT',
            true,
          ),
        ),
      this.opts.sendTimeoutMs,
    );
    const started = performance.now();
    try {
      const result = await Promise.race([
        this.sink.send(batch, { gatewayId: this.opts.gatewayId, signal: deadline.signal }),
        new Promise<never>((_, reject) => {
          deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason), { once: true });
        }),
      ]);
      const dead = result?.deadLetters ?? [];
      // The removal commits in the writer thread while the next batch is already on its way
      // upstream: a crash in between only means that batch is sent again (at-least-once).
      this.removing = this.queue
        .remove({
          sink: this.name,
          uptoSeq: last.seq,
          deadLetters: dead.map((d) => ({ ...d, stage: 'sink' })),
        })
        .catch((err) => this.log.error({ sink: this.name, err: errorMessage(err) }, 'queue remove failed'));
      this.cursor = last.seq;
      const delivered = batch.length - dead.length;
      this.metrics.sent.inc({ sink: this.name }, delivered);
      this.metrics.sendSeconds.observe({ sink: this.name }, (performance.now() - started) / 1000);
      this.metrics.sinkUp.set({ sink: this.name }, 1);
      this.recordRate(delivered);
      this.health.state = 'up';
      this.health.consecutiveFailures = 0;
      this.health.lastSuccessAt = Date.now();
      for (const d of dead)
        this.log.warn({ sink: this.name, seq: d.seq, reason: d.reason }, 'dead-lettered by sink');
      return true;
    } catch (err) {
      if (this.abort.signal.aborted) return false;
      if (!isRetriable(err)) {
        // the upstream will never take this batch as it is: keep it, out of the way, with the reason
        const reason = `${errorCode(err)}: ${errorMessage(err)}`;
        await this.queue.remove({
          sink: this.name,
          uptoSeq: last.seq,
          deadLetters: batch.map((r) => ({ seq: r.seq, reason, stage: 'sink' })),
        });
        this.cursor = last.seq;
        this.fail(err);
        this.log.error({ sink: this.name, records: batch.length, reason }, 'batch dead-lettered');
        return true;
      }
      this.retryAfterMs = err instanceof SinkError ? (err.retryAfterMs ?? 0) : 0;
      this.fail(err);
      this.log.warn(
        { sink: this.name, err: errorMessage(err), attempt: this.health.consecutiveFailures },
        'upstream send failed; will retry',
      );
      return false;
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }

  private recordRate(n: number): void {
    const now = Date.now();
    this.sent.push({ at: now, n });
    while (this.sent.length > 0 && this.sent[0]!.at < now - 60_000) this.sent.shift();
    const span = Math.max(1, (now - (this.sent[0]?.at ?? now)) / 1000);
    this.health.drainRate = this.sent.reduce((a, s) => a + s.n, 0) / Math.max(span, 1);
  }

  describe(): Record<string, unknown> {
    return this.sink.describe?.() ?? {};
  }

  /** Stops after the send in flight (which is abandoned, not lost: it stays queued). Safe to call twice. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    const loop = this.loop;
    this.loop = null;
    if (loop) await loop;
    await this.removing;
    this.health.state = 'stopped';
    await this.sink
      .stop()
      .catch((err) => this.log.warn({ sink: this.name, err: errorMessage(err) }, 'sink stop'));
  }
}
