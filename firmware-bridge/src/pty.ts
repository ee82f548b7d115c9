/**
 * A kernel pseudo-terminal pair made by socat: two linked tty paths, one for
 * the simulated firmware and one for the bridge. Closing it is the test's
 * "unplug" (both ends hang up, the links vanish); start() again is "replug"
 * (same paths, new /dev/pts numbers). Used by tests, the benchmark and
 * device-sim. Needs the socat binary (`apt-get install socat`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PtyPair {
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly log: string[] = [];

  constructor(
    /** the end the firmware (simulated device) opens */
    readonly devicePath: string,
    /** the end the bridge opens */
    readonly hostPath: string,
  ) {}

  /** A pair with links in a new temp folder (or `dir`), started. */
  static async open(dir = mkdtempSync(join(tmpdir(), 'tidegate-pty-')), name = 'tty'): Promise<PtyPair> {
    const p = new PtyPair(join(dir, `${name}-device`), join(dir, `${name}-host`));
    await p.start();
    return p;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(timeoutMs = 5000): Promise<void> {
    if (this.proc) return;
    const proc = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${this.devicePath}`, `pty,raw,echo=0,link=${this.hostPath}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => {
      if (this.log.length < 200) this.log.push(d.toString());
    });
    this.exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        if (this.proc === proc) this.proc = null;
        resolve();
      }),
    );
    const spawnError = new Promise<never>((_, reject) =>
      proc.once('error', (err) => reject(new Error(`cannot run socat: ${err.message}`))),
    );
    const ready = (async () => {
      const until = Date.now() + timeoutMs;
      // socat creates the links once both ptys exist and logs "starting data transfer loop" after
      while (
        !(
          existsSync(this.devicePath) &&
          existsSync(this.hostPath) &&
          this.log.join('').includes('starting data transfer')
        )
      ) {
        if (Date.now() > until || !this.proc)
          throw new Error(`socat did not create the PTY pair:\n${this.log.join('')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await Promise.race([ready, spawnError]);
  }

  /** Kills socat (by its own pid) and waits until it is gone: both ends hang up. Safe to call twice. */
  async close(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    p.kill('SIGTERM');
    await this.exited;
  }
}
