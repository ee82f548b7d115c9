/**
 * SD-card wear: bytes the gateway process writes to storage per message,
 * read from /proc/<pid>/io write_bytes of the real gateway (its queue writer
 * thread included) under a fixed QoS 1 load from this script's own publisher.
 * Reference in the same run: raw better-sqlite3 in this process, same table
 * shape, WAL + synchronous=FULL, one transaction per message and per 100.
 *
 * Usage: node dist/test/deploy/write-bytes.js   (about a minute; prints a table)
 * The data folders are on the same file system as os.tmpdir().
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';

const PAYLOAD = 100; // a typical JSON telemetry message
const TOKEN = 'write-bytes-bench-token-0123';

function io(pid: number | 'self'): { write: number; wchar: number } {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8');
  const get = (k: string) => Number(/^(\w+): (\d+)$/m.exec(t.slice(t.indexOf(`${k}:`)))?.[2] ?? Number.NaN);
  return { write: get('write_bytes'), wchar: get('wchar') };
}

function payload(dev: number, seq: number): string {
  const base = JSON.stringify({ d: dev, seq, t: 21.5, h: 40.25, ts: Date.now() });
  return base.length >= PAYLOAD
    ? base
    : `${base.slice(0, -1)},"pad":"${'x'.repeat(PAYLOAD - base.length - 9)}"}`;
}

/** devices x count QoS 1 publishes; each device keeps `window` in flight, or sends `rate` msg/s. */
async function publish(port: number, devices: number, count: number, o: { window?: number; rate?: number }) {
  const clients = await Promise.all(
    Array.from({ length: devices }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `wb-${i}` }),
    ),
  );
  const t0 = Date.now();
  await Promise.all(
    clients.map(async (c, d) => {
      const inflight = new Set<Promise<unknown>>();
      // devices on their own clocks: each starts at a random phase of its period
      const phase = o.rate ? Math.random() * (1000 / o.rate) : 0;
      for (let s = 0; s < count; s++) {
        if (o.rate) {
          const at = t0 + phase + (s * 1000) / o.rate;
          await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
        }
        const p = c.publishAsync(`devices/wb-${d}/telemetry`, payload(d, s), { qos: 1 });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        if (inflight.size >= (o.window ?? 1)) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  return seconds;
}

async function metric(gw: GatewayProcess, name: string): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${gw.statusPort}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
  ).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

interface Row {
  scenario: string;
  messages: number;
  rate: number;
  bytesPerMsg: number;
  wcharPerMsg: number;
  perCommit: number;
}

async function scenario(
  name: string,
  sink: 'down' | 'file',
  load: { devices: number; count: number; window?: number; rate?: number },
  queue: Record<string, unknown> = {},
): Promise<Row> {
  const sinks =
    sink === 'down'
      ? // an upstream that refuses connections: every message stays in the queue
        {
          up: {
            type: 'http',
            url: 'http://127.0.0.1:9/ingest',
            retry: { initialDelay: '10s', maxDelay: '10s' },
          },
        }
      : { up: { type: 'file' } };
  const gw = await startGateway({
    status: { token: TOKEN },
    queue,
    sinks,
    routes: { all: { from: '#', to: 'up' } },
  });
  const pid = gw.proc.pid!;
  await new Promise((r) => setTimeout(r, 500));
  const before = io(pid);
  const outBefore = gw.logs.join('\n').length;
  const seconds = await publish(gw.mqttPort, load.devices, load.count, load);
  const messages = load.devices * load.count;
  if (sink === 'file') {
    const end = Date.now() + 60_000;
    while ((await metric(gw, 'tidegate_messages_sent_total')) < messages && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await new Promise((r) => setTimeout(r, 1000)); // let the last commit and forwarder batch land
  const after = io(pid);
  const commits = await metric(gw, 'tidegate_queue_commit_messages_count');
  const logBytes = gw.logs.join('\n').length - outBefore;
  await gw.stop();
  return {
    scenario: `${name}, log ${logBytes} B`,
    messages,
    rate: messages / seconds,
    bytesPerMsg: (after.write - before.write) / messages,
    wcharPerMsg: (after.wchar - before.wchar) / messages,
    perCommit: commits > 0 ? messages / commits : Number.NaN,
  };
}

function rawSqlite(perTxn: number, messages: number, pageSize = 4096): Row {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'tidegate-raw-')), 'raw.db'));
  db.pragma(`page_size = ${pageSize}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, sink INTEGER, device TEXT, topic TEXT,
    route TEXT, received INTEGER, content_type TEXT, payload BLOB, size INTEGER)`);
  db.exec('CREATE INDEX messages_by_sink ON messages(sink, seq)');
  const ins = db.prepare('INSERT INTO messages VALUES (NULL, 1, ?, ?, ?, ?, ?, ?, ?)');
  const txn = db.transaction((from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      ins.run(
        `wb-${i % 20}`,
        `devices/wb-${i % 20}/telemetry`,
        'all',
        Date.now(),
        'json',
        Buffer.from(payload(0, i)),
        1,
      );
    }
  });
  const before = io('self');
  const t0 = Date.now();
  for (let i = 0; i < messages; i += perTxn) txn(i, perTxn);
  const seconds = (Date.now() - t0) / 1000;
  const after = io('self');
  db.close();
  return {
    scenario: `reference: raw SQLite insert, ${perTxn} per transaction, page_size ${pageSize}`,
    messages,
    rate: messages / seconds,
    bytesPerMsg: (after.write - before.write) / messages,
    wcharPerMsg: (after.wchar - before.wchar) / messages,
    perCommit: perTxn,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  rows.push(rawSqlite(1, 2000));
  rows.push(rawSqlite(1, 2000, 1024));
  rows.push(rawSqlite(100, 20_000));
  // maxCommitDelay is set on every row: 0ms = commit as soon as the previous one ends
  const d0 = { maxCommitDelay: '0ms' };
  const d4 = { maxCommitDelay: '4ms' }; // the shipped default
  const one = { devices: 1, count: 2000 };
  const paced = { devices: 20, count: 50, rate: 5 };
  const burst = { devices: 20, count: 1000, window: 8 };
  rows.push(await scenario('1 device, one publish at a time, 0ms, sink down', 'down', one, d0));
  rows.push(await scenario('1 device, one publish at a time, 4ms, sink down', 'down', one, d4));
  rows.push(await scenario('20 devices x 5 msg/s (100 msg/s), 0ms, sink down', 'down', paced, d0));
  rows.push(await scenario('20 devices x 5 msg/s, 4ms, sink down', 'down', paced, d4));
  rows.push(
    await scenario('20 devices x 5 msg/s, 50ms, sink down', 'down', paced, { maxCommitDelay: '50ms' }),
  );
  rows.push(await scenario('20 devices, 8 in flight each, 0ms, sink down', 'down', burst, d0));
  rows.push(await scenario('20 devices, 8 in flight each, 4ms, file sink draining', 'file', burst, d4));
  const head = ['scenario', 'messages', 'msg/s', 'msg/commit', 'write_bytes/msg', 'x payload', 'wchar/msg'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.messages),
    r.rate.toFixed(0),
    r.perCommit.toFixed(1),
    r.bytesPerMsg.toFixed(0),
    (r.bytesPerMsg / PAYLOAD).toFixed(1),
    r.wcharPerMsg.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  process.stdout.write(
    `payload ${PAYLOAD} B; maxCommitDelay in each row; write_bytes from /proc/<pid>/io; data in ${tmpdir()}\n`,
  );
  process.stdout.write(`${fmt(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const l of lines) process.stdout.write(`${fmt(l)}\n`);
  process.exit(0);
}

void main();
