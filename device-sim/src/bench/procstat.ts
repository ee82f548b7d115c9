/**
 * What a process costs, from /proc: resident memory (VmRSS, VmHWM), CPU time
 * (utime + stime of /proc/PID/stat) and bytes it caused to be written to disk
 * (write_bytes of /proc/PID/io, which counts what reaches the block layer,
 * fsynced WAL pages included). Linux only; null where /proc cannot be read.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  at: number;
  rssBytes: number;
  peakRssBytes: number;
  cpuSeconds: number;
  writeBytes: number | null;
}

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function kb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces; count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    let writeBytes: number | null = null;
    try {
      const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
      writeBytes = m ? Number(m[1]) : null;
    } catch {
      writeBytes = null;
    }
    return {
      at: Date.now(),
      rssBytes: kb(status, 'VmRSS'),
      peakRssBytes: kb(status, 'VmHWM'),
      cpuSeconds: cpuTicks / ticksPerSecond(),
      writeBytes,
    };
  } catch {
    return null;
  }
}

/** Samples a process every interval; reports the max RSS, average CPU and bytes written between start and stop. */
export class ProcWatch {
  private first: ProcSample | null = null;
  private last: ProcSample | null = null;
  private maxRss = 0;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  /** CPU and disk writes of processes followed before the current one */
  private carriedCpu = 0;
  private carriedWrite = 0;

  constructor(private pid: number) {}

  start(intervalMs = 500): void {
    this.first = sampleProc(this.pid);
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.take(), intervalMs);
  }

  /** follow a restarted process (new pid); what the old one used up to its last sample is kept */
  follow(pid: number): void {
    if (this.first && this.last) {
      this.carriedCpu += this.last.cpuSeconds - this.first.cpuSeconds;
      this.carriedWrite += (this.last.writeBytes ?? 0) - (this.first.writeBytes ?? 0);
    }
    this.pid = pid;
    this.first = sampleProc(pid);
    this.last = null;
  }

  private take(): void {
    const s = sampleProc(this.pid);
    if (!s) return;
    this.last = s;
    if (s.rssBytes > this.maxRss) this.maxRss = s.rssBytes;
  }

  stop(): ProcUsage | null {
    if (this.timer) clearInterval(this.timer);
    this.take();
    const a = this.first;
    const b = this.last;
    if (!a || !b) return null;
    const seconds = Math.max((b.at - this.startedAt) / 1000, 0.001);
    return {
      maxRssMB: this.maxRss / 2 ** 20,
      cpuPercent: ((this.carriedCpu + b.cpuSeconds - a.cpuSeconds) / seconds) * 100,
      writeBytes:
        a.writeBytes !== null && b.writeBytes !== null
          ? this.carriedWrite + b.writeBytes - a.writeBytes
          : null,
      seconds,
    };
  }
}

export interface ProcUsage {
  maxRssMB: number;
  /** of one core */
  cpuPercent: number;
  writeBytes: number | null;
  seconds: number;
}
