/**
 * One serial port kept open: opens it with the configured line settings and,
 * when it fails to open or goes away (USB unplugged, PTY closed), tries again
 * after a delay that doubles from reopen.initialDelay up to reopen.maxDelay,
 * with jitter so that many ports unplugged together do not retry in lockstep.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { PortConfig } from './config.js';

export type LinkState = 'opening' | 'open' | 'waiting' | 'stopped';

export interface LineSettings {
  baudRate: number;
  dataBits: PortConfig['dataBits'];
  parity: PortConfig['parity'];
  stopBits: PortConfig['stopBits'];
}

export interface ReopenPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** fraction of random spread on each delay (0 in tests) */
  jitter?: number;
}

export interface SerialLinkEvents {
  open: [];
  data: [Buffer];
  /** the port closed or failed; `reason` says why */
  close: [reason: string];
}

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  state: LinkState = 'waiting';
  /** successful opens so far */
  opens = 0;
  /** failed open attempts so far */
  openFailures = 0;
  lastError: string | null = null;
  bytesIn = 0;
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;

  constructor(
    readonly path: string,
    readonly settings: LineSettings,
    private readonly policy: ReopenPolicy,
  ) {
    super();
    this.delay = policy.initialDelayMs;
  }

  start(): void {
    if (this.state === 'stopped' || this.port || this.timer) return;
    this.open();
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Writes to the port if open; false when the bytes could not be handed to the OS driver. */
  write(buf: Buffer): boolean {
    const p = this.port;
    if (!p || this.state !== 'open') return false;
    p.write(buf);
    return true;
  }

  private open(): void {
    this.state = 'opening';
    const port = new SerialPort({
      path: this.path,
      baudRate: this.settings.baudRate,
      dataBits: this.settings.dataBits,
      parity: this.settings.parity,
      stopBits: this.settings.stopBits,
      autoOpen: false,
    });
    this.port = port;
    // every error surfaces here or in the open/close callbacks; never as an unhandled 'error'
    port.on('error', (err: Error) => this.lost(port, err.message));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) =>
      this.lost(port, err ? `${err.message}${err.disconnected ? ' (disconnected)' : ''}` : 'closed'),
    );
    port.on('data', (d: Buffer) => {
      this.bytesIn += d.length;
      this.emit('data', d);
    });
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.openFailures++;
        this.lastError = err.message;
        this.port = null;
        this.schedule();
        return;
      }
      if (this.state === 'stopped') {
        port.close(() => undefined);
        return;
      }
      this.state = 'open';
      this.opens++;
      this.delay = this.policy.initialDelayMs;
      this.emit('open');
    });
  }

  private lost(port: SerialPort, reason: string): void {
    if (this.port !== port) return;
    const wasOpen = this.state === 'open';
    this.port = null;
    this.lastError = reason;
    if (port.isOpen) port.close(() => undefined);
    if (wasOpen) this.emit('close', reason);
    if (this.state !== 'stopped') this.schedule();
  }

  private schedule(): void {
    if (this.state === 'stopped') return;
    this.state = 'waiting';
    const spread = this.policy.jitter ?? 0.2;
    const wait = this.delay * (1 - spread / 2 + Math.random() * spread);
    this.delay = Math.min(this.policy.maxDelayMs, Math.max(1, this.delay * 2));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, wait);
  }

  /** Closes the port and stops reopening. Safe to call twice. */
  async stop(): Promise<void> {
    const wasOpen = this.state === 'open';
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (wasOpen) this.emit('close', 'stopped');
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
