/**
 * npm run bench:ingest: durable QoS 1 ingest of the real gateway (child
 * process, SQLite queue, file sink) against references measured in the same
 * run: plain in-memory aedes, and raw better-sqlite3 batched inserts.
 * Prints a Markdown table. Not a test: numbers depend on the machine.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startGateway, tempDir } from '../support/gateway-process.js';
import { distDir } from '../support/paths.js';
import { type LoadResult, runLoad } from './load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

async function scrape(statusPort: number, token: string): Promise<Map<string, number>> {
  const text = await (
    await fetch(`http://127.0.0.1:${statusPort}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function plainAedes(): Promise<{
  port: number;
  proc: ChildProcess;
  lag(): Promise<{ lagP99Ms: number }>;
}> {
  const proc = fork(join(distDir, 'test/bench/plain-aedes.js'), ['0'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    proc.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port)),
  );
  return {
    port,
    proc,
    lag: () =>
      new Promise((resolve) => {
        proc.once('message', (m) => resolve(m as { lagP99Ms: number }));
        proc.send('lag');
      }),
  };
}

function rawSqlite(seconds: number, batch: number): { rate: number } {
  const db = new Database(join(tempDir(), 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE m (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT, payload BLOB)');
  const ins = db.prepare('INSERT INTO m (topic, payload) VALUES (?, ?)');
  const payload = Buffer.alloc(200, 0x61);
  const tx = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) ins.run('bench/load', payload);
  });
  let rows = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    tx(batch);
    rows += batch;
  }
  const rate = rows / ((performance.now() - t0) / 1000);
  db.close();
  return { rate };
}

function row(name: string, r: LoadResult, lagP99Ms: number, ref?: LoadResult): string {
  const ratio = ref ? `${((r.rate / ref.rate) * 100).toFixed(0)}%` : '—';
  // monitorEventLoopDelay reports the sampling interval (10 ms) plus the stall; show the stall
  const stall = Math.max(0, lagP99Ms - 10);
  return `| ${name} | ${r.publishers} | ${Math.round(r.rate)} | ${ratio} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${stall.toFixed(1)} |`;
}

async function main(): Promise<void> {
  const lines: string[] = [];
  // BENCH_GATEWAY_CONFIG='{"queue":{"maxCommitDelay":0}}' compares settings
  const gw = await startGateway(
    JSON.parse(process.env.BENCH_GATEWAY_CONFIG ?? '{}') as Record<string, unknown>,
  );
  const aedes = await plainAedes();
  const lagOfGateway = async () =>
    (await scrape(gw.statusPort, gw.token)).get('nodejs_eventloop_lag_p99_seconds')! * 1000;
  const results: Array<{ name: string; r: LoadResult; lag: number; ref?: LoadResult }> = [];
  try {
    for (const publishers of [10, 100]) {
      await aedes.lag();
      const a = await runLoad(aedes.port, { publishers, seconds: SECONDS });
      results.push({ name: 'plain aedes (in-memory)', r: a, lag: (await aedes.lag()).lagP99Ms });
      await lagOfGateway();
      const g = await runLoad(gw.mqttPort, { publishers, seconds: SECONDS });
      results.push({ name: 'tidegate (SQLite, power-loss)', r: g, lag: await lagOfGateway(), ref: a });
    }
    await aedes.lag();
    const fa = await runLoad(aedes.port, { publishers: 100, seconds: SECONDS, totalRate: 5000 });
    results.push({ name: 'plain aedes @ 5000 msg/s offered', r: fa, lag: (await aedes.lag()).lagP99Ms });
    await lagOfGateway();
    const fg = await runLoad(gw.mqttPort, { publishers: 100, seconds: SECONDS, totalRate: 5000 });
    results.push({ name: 'tidegate @ 5000 msg/s offered', r: fg, lag: await lagOfGateway(), ref: fa });
    const m = await scrape(gw.statusPort, gw.token);
    const commits = m.get('tidegate_queue_commit_seconds_count') ?? 0;
    const groups = m.get('tidegate_queue_commit_messages_sum') ?? 0;
    const raw = rawSqlite(SECONDS, 100);
    const gwBest = Math.max(...results.filter((x) => x.name.startsWith('tidegate (')).map((x) => x.r.rate));
    lines.push(
      `Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${SECONDS} s per row, 200-byte QoS 1 payloads, window 16 per publisher.`,
      '',
      '| run | publishers | acked msg/s | vs plain aedes | PUBACK p50 ms | PUBACK p99 ms | max ms | event-loop delay p99 ms |',
      '|---|---|---|---|---|---|---|---|',
      ...results.map((x) => row(x.name, x.r, x.lag, x.ref)),
      '',
      `Raw better-sqlite3, WAL + synchronous=FULL, 100 rows per transaction: ${Math.round(raw.rate)} rows/s (tidegate's best is ${((gwBest / raw.rate) * 100).toFixed(0)}% of it).`,
      'Event-loop delay: p99 of monitorEventLoopDelay (10 ms resolution) minus that 10 ms, over the run, in the broker process.',
      `Group commit: ${commits} commits served ${groups} publishes (${(groups / Math.max(1, commits)).toFixed(1)} per fsync on average).`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    aedes.proc.kill('SIGKILL');
    await gw.kill('SIGKILL');
  }
}

await main();
