/**
 * The composition root: every part is built here and nowhere else.
 * Constructors only assign; start() brings parts up in data-flow order
 * (queue -> sinks -> routes -> broker -> status) and stop() takes them down
 * in reverse. Both are safe to call twice.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Broker } from './broker/broker.js';
import { brokerOptions } from './broker/config.js';
import type { Config } from './config/schema.js';
import { bytes, ms } from './config/units.js';
import { errorMessage } from './errors.js';
import { Forwarder } from './forward/forwarder.js';
import { createSink } from './forward/sinks/index.js';
import { Ingest } from './ingest/ingest.js';
import type { CompiledRoute, RouteCompiler } from './ingest/route.js';
import { DeviceTable } from './observe/devices.js';
import { createLogger, type Logger } from './observe/log.js';
import { createMetrics, type Metrics } from './observe/metrics.js';
import { readDeadLetters } from './queue/dead-letters.js';
import { Queue } from './queue/queue.js';
import { QueueStore, type SinkLimits } from './queue/store.js';
import { AdminApi, type DeadLetterRetryResult } from './status/admin.js';
import { BridgeStatusReader } from './status/bridge.js';
import { StatusPage } from './status/page.js';
import { StatusServer, type StatusSource } from './status/server.js';
import { metricsTotals, type StatusSnapshot, sumWhere } from './status/snapshot.js';
import { compileRoutes } from './transform/compile.js';
import { queueEmitter } from './transform/emit.js';
import { retryDeadLetters } from './transform/retry.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
export const VERSION = pkg.version;

export interface GatewayOptions {
  logger?: Logger;
  /** how routes are compiled (the transform stage plugs in here) */
  compileRoutes?: RouteCompiler;
  /** called when the queue writer dies: the process should exit and be restarted */
  onFatal?: (err: Error) => void;
}

export class Gateway implements StatusSource {
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly queue: Queue;
  readonly forwarders = new Map<string, Forwarder>();
  readonly broker: Broker;
  /** the status page's device table (connect/disconnect from the broker, messages from ingest) */
  readonly devices = new DeviceTable();
  readonly status: StatusServer | null;
  private readonly page: StatusPage | null;
  private readonly admin: AdminApi | null;
  private readonly sinkLimits: Record<string, SinkLimits> = {};
  routes: CompiledRoute[] = [];
  private ingest: Ingest | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private gaugeTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(
    readonly config: Config,
    private readonly options: GatewayOptions = {},
  ) {
    this.log = options.logger ?? createLogger(config.log.level, config.gatewayId);
    this.metrics = createMetrics();
    const limits = this.sinkLimits;
    for (const [name, s] of Object.entries(config.sinks)) {
      limits[name] = {
        maxBytes: bytes(s.queue.maxBytes),
        maxAgeMs: ms(s.queue.maxAge),
        whenFull: s.queue.whenFull,
      };
    }
    this.queue = new Queue({
      dataDir: resolve(config.dataDir),
      durability: config.queue.durability,
      sinks: limits,
      maxCommitDelayMs: ms(config.queue.maxCommitDelay),
      onCommit: (report, batch) => {
        this.metrics.commitSeconds.observe(batch.ms / 1000);
        if (batch.groups > 0) this.metrics.commitGroups.observe(batch.groups);
        for (const [sink, reasons] of Object.entries(report.drops)) {
          for (const [reason, n] of Object.entries(reasons)) this.metrics.dropped.inc({ sink, reason }, n);
        }
      },
      onFatal: (err) => {
        this.log.fatal({ err: err.message }, 'queue failed');
        this.options.onFatal?.(err);
      },
    });
    this.broker = new Broker(
      {
        ...brokerOptions(config.mqtt, this.queue.file),
        accept: (msg) => {
          if (!this.ingest) return Promise.resolve({ accepted: false, reason: 'not_ready' });
          return this.devices.track(msg.clientId, this.ingest.accept(msg));
        },
      },
      this.metrics,
      this.log,
    );
    this.status = config.status.enabled
      ? new StatusServer(
          {
            host: config.status.host,
            port: config.status.port,
            auth: config.status.auth,
            token: config.status.token,
            dataDir: resolve(config.dataDir),
          },
          this,
          this.log,
        )
      : null;
    this.page = this.status ? new StatusPage(this.status, this) : null;
    this.admin = this.status ? new AdminApi(this.status, this) : null;
    if (this.status)
      new BridgeStatusReader(config.status.bridgeStatusUrl, this.metrics.errors).register(this.status);
  }

  pauseSink(name: string): boolean {
    const f = this.forwarders.get(name);
    f?.pause();
    return f !== undefined;
  }

  resumeSink(name: string): boolean {
    const f = this.forwarders.get(name);
    f?.resume();
    return f !== undefined;
  }

  /** Admin action of the status page: what `tidegate deadletters retry --all` does, then wake the forwarders. */
  async retryDeadLetters(): Promise<DeadLetterRetryResult> {
    const store = new QueueStore({
      file: this.queue.file,
      durability: this.config.queue.durability,
      sinks: this.sinkLimits,
    });
    try {
      const results = await retryDeadLetters(this.config, store, readDeadLetters(store.db));
      const by = (k: string) => results.filter((r) => r.result === k).length;
      for (const f of this.forwarders.values()) f.notify();
      return {
        retried: results.length,
        queued: by('queued'),
        filtered: by('filtered'),
        failed: by('failed'),
        skipped: by('skipped'),
      };
    } finally {
      store.close();
    }
  }

  get registry() {
    return this.metrics.registry;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    this.startedAt = Date.now();
    try {
      await this.queue.start();
      for (const [name, sinkConfig] of Object.entries(this.config.sinks)) {
        const sink = await createSink(name, sinkConfig, {
          gatewayId: this.config.gatewayId,
          dataDir: resolve(this.config.dataDir),
          log: this.log.child({ sink: name }),
        });
        const f = new Forwarder(
          name,
          sink,
          this.queue,
          {
            gatewayId: this.config.gatewayId,
            maxRecords: sinkConfig.batch.maxRecords,
            maxBytes: bytes(sinkConfig.batch.maxBytes),
            lingerMs: ms(sinkConfig.batch.linger),
            sendTimeoutMs: ms(sinkConfig.sendTimeout),
            retry: {
              initialDelayMs: ms(sinkConfig.retry.initialDelay),
              maxDelayMs: ms(sinkConfig.retry.maxDelay),
              multiplier: sinkConfig.retry.multiplier,
              jitter: sinkConfig.retry.jitter,
            },
          },
          this.metrics,
          this.log.child({ sink: name }),
        );
        this.forwarders.set(name, f);
        await f.start();
      }
      this.routes = (this.options.compileRoutes ?? compileRoutes)(this.config, {
        emit: queueEmitter(this.queue, this.metrics, this.log, (s) => this.forwarders.get(s)?.notify()),
        log: this.log,
      });
      this.ingest = new Ingest(this.routes, this.queue, this.metrics, this.log, (sinks) => {
        for (const s of sinks) this.forwarders.get(s)?.notify();
      });
      await this.broker.start();
      if (this.broker.aedes) this.devices.attach(this.broker.aedes);
      await this.status?.start();
      this.page?.start();
      this.admin?.start();
      this.retentionTimer = setInterval(() => void this.retention(), ms(this.config.queue.retentionInterval));
      this.retentionTimer.unref();
      this.gaugeTimer = setInterval(() => this.updateGauges(), 1000);
      this.gaugeTimer.unref();
      this.state = 'running';
      this.log.info(
        {
          version: VERSION,
          mqttPort: this.broker.port,
          mqttPorts: this.broker.ports,
          statusPort: this.status?.port,
        },
        'tidegate started',
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async retention(): Promise<void> {
    try {
      const { expired } = await this.queue.retention();
      for (const [sink, n] of Object.entries(expired)) {
        this.metrics.dropped.inc({ sink, reason: 'expired' }, n);
        this.log.warn({ sink, expired: n }, 'expired messages older than queue.maxAge');
      }
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'retention failed');
    }
  }

  updateGauges(): void {
    const now = Date.now();
    for (const name of this.forwarders.keys()) {
      const s = this.queue.stats(name);
      this.metrics.queueBytes.set({ sink: name }, s.bytes);
      this.metrics.queueMessages.set({ sink: name }, s.count);
      this.metrics.queueOldestAge.set(
        { sink: name },
        s.oldestReceivedAt === null ? 0 : (now - s.oldestReceivedAt) / 1000,
      );
    }
  }

  ready(): { ready: boolean; checks: Record<string, boolean> } {
    const checks = { broker: this.broker.listening, store: this.state === 'running' };
    return { ready: checks.broker && checks.store, checks };
  }

  async snapshot(): Promise<StatusSnapshot> {
    this.updateGauges();
    const t = await metricsTotals(this.metrics);
    const now = Date.now();
    const sinks = [...this.forwarders.entries()].map(([name, f]) => {
      const cfg = this.config.sinks[name]!;
      const stats = this.queue.stats(name);
      const maxBytes = bytes(cfg.queue.maxBytes);
      const dropped: Record<string, number> = {};
      for (const v of t.dropped) if (v.labels.sink === name) dropped[String(v.labels.reason)] = v.value;
      return {
        name,
        type: cfg.type,
        state: f.health.state,
        lastError: f.health.lastError,
        lastErrorAt: f.health.lastErrorAt,
        lastSuccessAt: f.health.lastSuccessAt,
        backlogMessages: stats.count,
        backlogBytes: stats.bytes,
        maxBytes,
        fillRatio: maxBytes > 0 ? stats.bytes / maxBytes : 0,
        oldestAgeSeconds: stats.oldestReceivedAt === null ? null : (now - stats.oldestReceivedAt) / 1000,
        drainRate: f.health.drainRate,
        etaSeconds: f.health.drainRate > 0 ? stats.count / f.health.drainRate : null,
        queued: sumWhere(t.queued, { sink: name }),
        sent: sumWhere(t.sent, { sink: name }),
        dropped,
        details: f.describe(),
      };
    });
    const warnings: string[] = [];
    for (const s of sinks) {
      if (s.state === 'down') warnings.push(`sink ${s.name} is down: ${s.lastError ?? 'no detail'}`);
      if (s.fillRatio > 0.8)
        warnings.push(`queue of sink ${s.name} is ${Math.round(s.fillRatio * 100)}% full`);
      if (s.state === 'up' && (s.oldestAgeSeconds ?? 0) > 3600) {
        warnings.push(
          `sink ${s.name} is up but its oldest message is ${Math.round(s.oldestAgeSeconds! / 60)} min old`,
        );
      }
    }
    const errors: Record<string, number> = {};
    for (const v of t.errors) errors[`${v.labels.stage}/${v.labels.code}`] = v.value;
    let fileBytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        fileBytes += statSync(this.queue.file + suffix).size;
      } catch {
        // the WAL file may not exist between checkpoints
      }
    }
    return {
      gatewayId: this.config.gatewayId,
      version: VERSION,
      startedAt: this.startedAt,
      uptimeSeconds: (now - this.startedAt) / 1000,
      now,
      clientsConnected: t.clients[0]?.value ?? 0,
      received: t.received.reduce((a, v) => a + v.value, 0),
      unrouted: t.unrouted[0]?.value ?? 0,
      routes: this.routes.map((r) => ({
        name: r.name,
        sink: r.sink,
        matched: sumWhere(t.received, { route: r.name }),
        passed: sumWhere(t.routeOutcomes, { route: r.name, outcome: 'passed' }),
        filtered: sumWhere(t.routeOutcomes, { route: r.name, outcome: 'filtered' }),
        failed: sumWhere(t.routeOutcomes, { route: r.name, outcome: 'failed' }),
      })),
      sinks,
      queue: { file: this.queue.file, fileBytes, deadLetters: this.queue.deadLetterStats().count },
      errors,
      warnings,
    };
  }

  /** SIGTERM path: stop accepting, finish the commit in flight, stop forwarders, close the store. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    this.page?.stop();
    await this.status?.stop().catch((err) => this.log.warn({ err: errorMessage(err) }, 'status stop'));
    await this.broker.stop().catch((err) => this.log.warn({ err: errorMessage(err) }, 'broker stop'));
    for (const r of this.routes) await r.stop?.();
    await Promise.all([...this.forwarders.values()].map((f) => f.stop()));
    await this.queue.stop();
    this.state = 'stopped';
    this.log.info('tidegate stopped');
  }
}
