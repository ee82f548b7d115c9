/**
 * The bridge's composition root: ports (fixed and discovered) -> one
 * SerialLink + PortSession each -> per-device MQTT connections to the gateway;
 * and the status endpoint. The constructor only assigns; start() brings the
 * parts up (status, then ports), stop() takes them down in reverse.
 */
import type { Logger } from 'pino';
import { ms, bytes as sizeBytes } from '../../gateway/src/config/units.js';
import type { BridgeConfig, PortConfig } from './config.js';
import { LatencyTracker, PendingBudget } from './counters.js';
import { entryPaths, listUsbPorts, type UsbPort } from './discovery.js';
import { PortSession } from './port-session.js';
import { SerialLink } from './serial-link.js';
import { type BridgeStatus, type PortStatus, totalsOf } from './status.js';
import { StatusServer } from './status-server.js';
import { UplinkPool } from './uplink.js';

export class Bridge {
  readonly budget: PendingBudget;
  readonly latency = new LatencyTracker();
  readonly pool: UplinkPool;
  readonly sessions = new Map<string, PortSession>();
  private statusServer: StatusServer | null = null;
  private scanTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private running = false;
  private startedAt = 0;

  constructor(
    readonly config: BridgeConfig,
    private readonly log: Logger,
    /** test seam: reopen jitter 0 makes timings predictable */
    private readonly reopenJitter = 0.2,
  ) {
    this.budget = new PendingBudget(config.buffer.maxMessages, sizeBytes(config.buffer.maxBytes));
    const g = config.gateway;
    this.pool = new UplinkPool({
      url: g.url,
      ...(g.username !== undefined ? { username: g.username } : {}),
      ...(g.password !== undefined ? { password: g.password } : {}),
      topicPrefix: g.topicPrefix,
      keepaliveMs: ms(g.keepalive),
      connectTimeoutMs: ms(g.connectTimeout),
      reconnectPeriodMs: ms(g.reconnectPeriod),
    });
  }

  get statusPort(): number {
    return this.statusServer?.port ?? 0;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = Date.now();
    const s = this.config.status;
    if (s.enabled) {
      this.statusServer = new StatusServer(s.host, s.port, () => this.status());
      await this.statusServer.start();
    }
    await this.scan();
    if (this.config.ports.some((p) => p.path === undefined)) {
      this.scanTimer = setInterval(() => void this.scan(), ms(this.config.discovery.interval));
    }
  }

  /** Adds a link for every path the config names now and that is not served yet. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const usb: UsbPort[] = this.config.ports.some((p) => p.usb) ? await listUsbPorts() : [];
    for (const entry of this.config.ports) {
      for (const path of entryPaths(entry, usb)) {
        if (!this.running || this.sessions.has(path)) continue;
        this.addPort(path, entry);
      }
    }
  }

  private addPort(path: string, entry: PortConfig): void {
    const link = new SerialLink(
      path,
      { baudRate: entry.baudRate, dataBits: entry.dataBits, parity: entry.parity, stopBits: entry.stopBits },
      {
        initialDelayMs: ms(this.config.reopen.initialDelay),
        maxDelayMs: ms(this.config.reopen.maxDelay),
        jitter: this.reopenJitter,
      },
    );
    const session = new PortSession(link, {
      pool: this.pool,
      budget: this.budget,
      latency: this.latency,
      log: this.log,
      payloadMode: this.config.gateway.payload,
      commandMode: this.config.commands.payload,
      maxQueuedCommands: this.config.commands.maxQueued,
    });
    link.on('open', () => this.log.info({ port: path, baudRate: entry.baudRate }, 'port open'));
    link.on('close', (why) => this.log.warn({ port: path, why }, 'port closed; reopening with backoff'));
    this.sessions.set(path, session);
    link.start();
  }

  status(): BridgeStatus {
    const now = Date.now();
    const ports: PortStatus[] = [...this.sessions.values()].map((s) => ({
      path: s.link.path,
      state: s.link.state,
      baudRate: s.link.settings.baudRate,
      opens: s.link.opens,
      openFailures: s.link.openFailures,
      lastError: s.link.lastError,
      bytesIn: s.link.bytesIn,
      device: s.device
        ? {
            id: s.device.deviceId,
            firmware: s.device.firmware,
            capabilities: s.device.capabilities,
            maxFrame: s.device.maxFrame,
            since: s.device.since,
            connected: s.uplinkConnected,
          }
        : null,
      commandsQueued: s.commandsQueued,
      counters: s.counters,
      decoder: s.decoder.stats,
    }));
    const b = this.budget;
    return {
      bridgeId: this.config.bridgeId,
      startedAt: this.startedAt,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      now,
      gateway: {
        url: this.config.gateway.url,
        devicesConnected: this.pool.list().filter((u) => u.connected).length,
      },
      buffer: {
        messages: b.messages,
        bytes: b.bytes,
        maxMessages: b.maxMessages,
        maxBytes: b.maxBytes,
        refused: b.refused,
      },
      ackLatency: this.latency.summary(),
      totals: totalsOf(ports),
      ports,
    };
  }

  /** Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = null;
    await this.scanning;
    await Promise.all([...this.sessions.values()].map((s) => s.link.stop()));
    await this.pool.stop();
    await this.statusServer?.stop();
    this.statusServer = null;
  }
}
