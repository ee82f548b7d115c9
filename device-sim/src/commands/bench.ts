/**
 * `tidegate-sim bench` (npm run bench): the shipped benchmark workloads against
 * the gateway, with Mosquitto and plain aedes measured in the same run as
 * references. Prints a Markdown table (and writes it to --out): throughput,
 * PUBACK latency, the broker's RSS and CPU, and disk bytes written per message.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ProcWatch } from '../bench/procstat.js';
import { aedesTarget, gatewayTarget, mosquittoTarget, type Target } from '../bench/targets.js';
import { Histogram } from '../histogram.js';
import { ackedCount } from '../ledger.js';
import { parseFleet } from '../options.js';
import { startFleet } from '../workers.js';

export const benchUsage = `tidegate-sim bench [--seconds 15] [--out FILE]
  Workloads: steady (200 devices x 5 msg/s, environmental, QoS 1) and bursts (50 devices x 40 msg/s,
  vibration, QoS 1), each against tidegate, Mosquitto (127.0.0.1:1883, topics under tidegate-bench/)
  and plain aedes. About 2 minutes with the default 15 s per row.
  --out FILE   also write the Markdown table here (default: test-artifacts/device-sim-bench.md)`;

interface Workload {
  name: string;
  devices: Record<string, unknown>;
}

const workloads: Workload[] = [
  { name: 'steady 200 x 5/s', devices: { devices: 200, rate: 5, profile: 'environmental', rampUp: '1s' } },
  { name: 'bursts 50 x 40/s', devices: { devices: 50, rate: 40, profile: 'vibration', rampUp: '1s' } },
];

interface Row {
  workload: string;
  target: string;
  rate: number;
  p50: number;
  p99: number;
  rssMB: number | null;
  cpu: number | null;
  bytesPerMsg: number | null;
  lostAcks: number;
  simLag: number;
}

async function measure(target: Target, w: Workload, seconds: number): Promise<Row> {
  const watch = target.pid ? new ProcWatch(target.pid) : null;
  const config = parseFleet({
    ...w.devices,
    url: target.url,
    topic: target.topic,
    duration: `${seconds}s`,
    payloadSize: 200,
    idPrefix: `bench-${process.pid}`,
    ackWait: '10s',
  });
  watch?.start(250);
  const result = await startFleet(config).done;
  const usage = watch?.stop() ?? null;
  const acked = ackedCount(result.ledger);
  const h = Histogram.from(result.stats.latency);
  return {
    workload: w.name,
    target: target.name,
    rate: acked / (result.publishMs / 1000),
    p50: h.percentile(50),
    p99: h.percentile(99),
    rssMB: usage?.maxRssMB ?? null,
    cpu: usage?.cpuPercent ?? null,
    bytesPerMsg: usage?.writeBytes != null && acked > 0 ? usage.writeBytes / acked : null,
    lostAcks: result.stats.sent - acked,
    simLag: result.simLoopP99Ms,
  };
}

const f = (v: number | null, digits = 1) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));

export function markdown(rows: Row[], seconds: number): string {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Linux`;
  const lines = [
    `Benchmark (tidegate-sim bench, ${seconds} s per row, QoS 1, 200-byte JSON payloads), ${new Date().toISOString().slice(0, 16)}Z`,
    `Machine: ${machine}, load average ${loadavg()[0]!.toFixed(1)} at the end. The simulator runs on the same machine (sim lag = its own event-loop delay p99); msg/s includes a 1 s connect ramp; CPU % is of one core; disk bytes from /proc/PID/io write_bytes.`,
    '',
    '| workload | broker | acked msg/s | ack p50 ms | ack p99 ms | RSS MB | CPU % | disk bytes/msg | unacked | sim lag ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.target} | ${f(r.rate, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.rssMB)} | ${f(r.cpu)} | ${f(r.bytesPerMsg, 0)} | ${r.lostAcks} | ${f(r.simLag)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${benchUsage}\n`);
    return 0;
  }
  const seconds = Number(values.seconds ?? 15);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds: expected a positive number');
  const rows: Row[] = [];
  const makers = [gatewayTarget, mosquittoTarget, aedesTarget];
  for (const w of workloads) {
    for (const make of makers) {
      const target = await make();
      try {
        process.stderr.write(`bench: ${w.name} -> ${target.name} ...\n`);
        rows.push(await measure(target, w, seconds));
      } finally {
        await target.close();
      }
    }
  }
  const table = markdown(rows, seconds);
  const out = values.out ?? 'test-artifacts/device-sim-bench.md';
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, table);
  process.stdout.write(table);
  return 0;
}
