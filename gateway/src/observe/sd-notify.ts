/**
 * sd_notify(3) for `Type=notify` units, without a native addon.
 *
 * NOTIFY_SOCKET names a unix *datagram* socket, and Node has no unix-domain
 * datagram support (dgram is UDP only; net.connect to a SOCK_DGRAM socket fails
 * with EPROTOTYPE). So each notification runs systemd-notify(1), which ships
 * with systemd itself (every Debian and Raspberry Pi OS that can run this unit
 * has it). Two consequences, both handled in the unit file and here:
 * - the datagram comes from our child, not the main PID, so the unit needs
 *   `NotifyAccess=all` (the default for Type=notify, `main`, would drop it);
 * - systemd-notify waits (BARRIER=1; systemd 252 on bookworm does) until the manager has read
 *   the message, so the manager can still look up the sender's cgroup; without
 *   that wait a short-lived sender races the manager and READY=1 can be lost.
 * Cost, measured in gateway/deploy/README.md: a few ms of one spawn per
 * notification, i.e. one spawn every WatchdogSec/2.
 */
import { execFile } from 'node:child_process';

/** the one logger method used here (a pino Logger fits) */
export interface WarnLog {
  warn(obj: object, msg: string): void;
}

export interface NotifierOptions {
  /** the notify program (tests may point at another path) */
  command?: string;
  /** how long one notification may take before it is abandoned */
  timeoutMs?: number;
}

export class SystemdNotifier {
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  /** notifications that failed (logged each time) */
  failures = 0;
  /** watchdog pings sent */
  pings = 0;

  constructor(
    private readonly socket: string,
    /** half of WATCHDOG_USEC in ms, or null when the unit has no watchdog */
    readonly watchdogIntervalMs: number | null,
    private readonly log: WarnLog,
    private readonly options: NotifierOptions = {},
  ) {}

  /** A notifier when started by systemd with NOTIFY_SOCKET set, else null (nothing to notify). */
  static fromEnv(
    env: NodeJS.ProcessEnv,
    log: WarnLog,
    options: NotifierOptions = {},
  ): SystemdNotifier | null {
    const socket = env.NOTIFY_SOCKET;
    if (!socket) return null;
    return new SystemdNotifier(socket, watchdogInterval(env, process.pid), log, options);
  }

  /** READY=1 with a human-readable STATUS= line (shown by `systemctl status`). */
  ready(status: string): Promise<boolean> {
    return this.send(['READY=1', `STATUS=${status}`]);
  }

  stopping(): Promise<boolean> {
    this.stopWatchdog();
    return this.send(['STOPPING=1', 'STATUS=shutting down']);
  }

  /**
   * Pings WATCHDOG=1 every watchdogIntervalMs while healthy() holds. The timer
   * runs on the main event loop, so a stalled loop or a dead queue writer
   * (healthy() false) stops the pings and systemd restarts the service.
   */
  startWatchdog(healthy: () => boolean): void {
    if (this.watchdogIntervalMs === null || this.timer) return;
    this.timer = setInterval(() => {
      // a ping still running (manager busy) is not stacked with another process
      if (this.inFlight || !healthy()) return;
      this.inFlight = true;
      void this.send(['WATCHDOG=1']).then((ok) => {
        this.inFlight = false;
        if (ok) this.pings++;
      });
    }, this.watchdogIntervalMs);
    this.timer.unref();
  }

  stopWatchdog(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** one notification (READY=1, WATCHDOG=1, ...); false when it failed (logged and counted) */
  send(vars: string[]): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(
        this.options.command ?? 'systemd-notify',
        vars,
        {
          // only what systemd-notify needs: our other variables stay out of its environment
          env: { NOTIFY_SOCKET: this.socket, PATH: process.env.PATH ?? '/usr/bin:/bin' },
          timeout: this.options.timeoutMs ?? 10_000,
        },
        (err, _stdout, stderr) => {
          if (!err) return resolve(true);
          this.failures++;
          this.log.warn(
            { vars: vars[0], err: err.message.split('\n')[0], stderr: stderr.trim() },
            'sd_notify failed: systemd may not see this notification',
          );
          resolve(false);
        },
      );
    });
  }
}

/**
 * Half of WATCHDOG_USEC in ms (pinging at half the deadline, as sd_watchdog_enabled(3)
 * recommends), or null when no watchdog is set or it is meant for another PID.
 */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}
