/**
 * What one sd_notify costs the gateway: SystemdNotifier (a systemd-notify
 * child with its barrier) against a real datagram socket, next to the bare
 * cost of spawning /bin/true from the same process as the reference.
 * Usage: node dist/test/deploy/notify-cost.js
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemdNotifier } from '../../gateway/src/observe/sd-notify.js';
import { startNotifyReceiver } from './notify-receiver.js';

const N = 100;

async function timeIt(run: () => Promise<unknown>): Promise<{ mean: number; p99: number; cpu: number }> {
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  ms.sort((a, b) => a - b);
  return {
    mean: ms.reduce((a, b) => a + b, 0) / N,
    p99: ms[Math.floor(N * 0.99) - 1]!,
    cpu: (cpu.user + cpu.system) / 1000 / N,
  };
}

async function main(): Promise<void> {
  const rx = await startNotifyReceiver(mkdtempSync(join(tmpdir(), 'tidegate-notify-cost-')));
  const n = new SystemdNotifier(rx.socket, null, {
    warn: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
  });
  const rows: Array<[string, { mean: number; p99: number; cpu: number }]> = [
    ['reference: spawn /bin/true', await timeIt(() => new Promise((r) => execFile('/bin/true', r)))],
    ['systemd-notify WATCHDOG=1 (with barrier)', await timeIt(() => n.send(['WATCHDOG=1']))],
  ];
  rx.close();
  process.stdout.write(
    `${N} calls each, one at a time\n| what | mean ms | p99 ms | gateway CPU ms per call |\n|---|---|---|---|\n`,
  );
  for (const [what, r] of rows) {
    process.stdout.write(`| ${what} | ${r.mean.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpu.toFixed(2)} |\n`);
  }
  if (n.failures > 0) process.exitCode = 1;
}

void main();
