/**
 * The queue as the rest of the gateway sees it: `append` resolves once the
 * message is committed (group commit: everything that arrives while one
 * transaction runs goes into the next one), `remove` after an upstream ack,
 * `read` for the forwarders. Writes go to the writer thread; reads use a
 * second connection on this thread (WAL readers never wait for the writer).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { QueuedMessage, StoredRecord } from '../contracts/record.js';
import type { CommitReport, DeadLetterEntry, RemoveOp, SinkLimits, SinkStats } from './store.js';
import { QueueReader } from './store.js';
import type { WorkerReply, WorkerRequest } from './worker.js';

export interface QueueOptions {
  dataDir: string;
  durability: 'power-loss' | 'process-crash';
  sinks: Record<string, SinkLimits>;
  maxCommitDelayMs: number;
  onCommit?: (report: CommitReport, batch: { groups: number; removals: number; ms: number }) => void;
  onFatal?: (err: Error) => void;
}

export class QueueError extends Error {
  constructor(
    message: string,
    readonly code: 'QUEUE_FULL' | 'QUEUE_FAILED' | 'QUEUE_CLOSED',
  ) {
    super(message);
    this.name = 'QueueError';
  }
}

interface Pending<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

export type AppendOutcome = { ok: true } | { ok: false; reason: 'rejected_full' };

export class Queue {
  readonly file: string;
  private worker: Worker | null = null;
  private reader: QueueReader | null = null;
  private nextId = 1;
  private readonly calls = new Map<number, Pending<unknown>>();
  private groups: Array<{ group: QueuedMessage[] } & Pending<AppendOutcome>> = [];
  private removals: Array<{ op: RemoveOp } & Pending<void>> = [];
  private deadLetters: Array<{ entry: DeadLetterEntry } & Pending<void>> = [];
  private committing = false;
  private scheduled = false;
  private closed = false;

  constructor(private readonly opts: QueueOptions) {
    this.file = join(opts.dataDir, 'tidegate.db');
  }

  async start(): Promise<void> {
    if (this.worker) return;
    mkdirSync(this.opts.dataDir, { recursive: true });
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: { file: this.file, durability: this.opts.durability, sinks: this.opts.sinks },
      // the writer holds a batch at a time; a small young generation keeps its RSS small
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: WorkerReply) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed')
          reject(new QueueError(`cannot open the queue at ${this.file}: ${m.message}`, 'QUEUE_FAILED'));
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`queue writer thread exited with code ${code}`));
    });
    this.reader = new QueueReader(this.file);
  }

  private fail(err: Error): void {
    const e = new QueueError(`queue writer failed: ${err.message}`, 'QUEUE_FAILED');
    for (const p of this.calls.values()) p.reject(e);
    this.calls.clear();
    this.opts.onFatal?.(e);
  }

  private onReply(m: WorkerReply): void {
    if (m.type === 'ready') return;
    const p = this.calls.get(m.id);
    if (!p) return;
    this.calls.delete(m.id);
    if (m.type === 'done') p.resolve(m.result);
    else p.reject(new QueueError(m.message, 'QUEUE_FAILED'));
  }

  private call<T>(req: WorkerRequest): Promise<T> {
    if (!this.worker) return Promise.reject(new QueueError('queue is not running', 'QUEUE_CLOSED'));
    return new Promise<T>((resolve, reject) => {
      this.calls.set(req.id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage(req);
    });
  }

  /** Resolves when the group (one publish, possibly to several sinks) is committed, or refused as a whole. */
  append(group: QueuedMessage[]): Promise<AppendOutcome> {
    if (this.closed) return Promise.reject(new QueueError('queue is closed', 'QUEUE_CLOSED'));
    return new Promise((resolve, reject) => {
      this.groups.push({ group, resolve, reject });
      this.schedule();
    });
  }

  /** Deletes a sink's rows up to a seq after its upstream acknowledged them (dead letters are moved, not deleted). */
  remove(op: RemoveOp): Promise<void> {
    if (this.closed) return Promise.reject(new QueueError('queue is closed', 'QUEUE_CLOSED'));
    return new Promise((resolve, reject) => {
      this.removals.push({ op, resolve, reject });
      this.schedule();
    });
  }

  /** Stores a message refused at ingest in the dead-letter table. */
  deadLetter(entry: DeadLetterEntry): Promise<void> {
    if (this.closed) return Promise.reject(new QueueError('queue is closed', 'QUEUE_CLOSED'));
    return new Promise((resolve, reject) => {
      this.deadLetters.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  private hasPending(): boolean {
    return this.groups.length > 0 || this.removals.length > 0 || this.deadLetters.length > 0;
  }

  private schedule(): void {
    if (this.committing || this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    // setImmediate lets every packet of the current socket read join this commit
    if (this.opts.maxCommitDelayMs > 0) setTimeout(go, this.opts.maxCommitDelayMs);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.committing || !this.hasPending()) return;
    this.committing = true;
    const { groups, removals, deadLetters } = this;
    this.groups = [];
    this.removals = [];
    this.deadLetters = [];
    const started = performance.now();
    try {
      const report = await this.call<CommitReport>({
        type: 'commit',
        id: this.nextId++,
        groups: groups.map((g) => g.group),
        removals: removals.map((r) => r.op),
        deadLetters: deadLetters.map((d) => d.entry),
      });
      this.opts.onCommit?.(report, {
        groups: groups.length,
        removals: removals.length,
        ms: performance.now() - started,
      });
      for (const [i, g] of groups.entries()) g.resolve(report.groups[i]!);
      for (const r of removals) r.resolve();
      for (const d of deadLetters) d.resolve();
    } catch (err) {
      for (const p of [...groups, ...removals, ...deadLetters]) p.reject(err as Error);
    } finally {
      this.committing = false;
      if (this.hasPending()) this.schedule();
    }
  }

  /** Expiry by age and space reclaim; returns expired counts per sink. */
  retention(): Promise<{ expired: Record<string, number>; reclaimedPages: number }> {
    return this.call({ type: 'retention', id: this.nextId++ });
  }

  read(sink: string, afterSeq: number, maxRecords: number, maxBytes: number): StoredRecord[] {
    if (!this.reader) throw new QueueError('queue is not running', 'QUEUE_CLOSED');
    return this.reader.read(sink, afterSeq, maxRecords, maxBytes);
  }

  stats(sink: string): SinkStats {
    if (!this.reader) return { bytes: 0, count: 0, oldestReceivedAt: null };
    return this.reader.stats(sink);
  }

  deadLetterStats(): { count: number; bytes: number } {
    return this.reader?.deadLetterStats() ?? { count: 0, bytes: 0 };
  }

  /** Waits for the commit in flight and the ones queued behind it, then closes the database. */
  async stop(): Promise<void> {
    if (!this.worker || this.closed) return;
    while (this.committing || this.hasPending()) {
      if (!this.committing) await this.flush();
      else await new Promise((r) => setTimeout(r, 2));
    }
    this.closed = true;
    await this.call({ type: 'close', id: this.nextId++ }).catch(() => undefined);
    await this.worker.terminate();
    this.worker = null;
    this.reader?.close();
    this.reader = null;
  }
}
