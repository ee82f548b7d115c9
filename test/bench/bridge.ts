/**
 * bench:bridge — frames/s through one PTY at 115200 and 921600 baud against
 * the theoretical line rate, and the ACK round trip (device -> bridge ->
 * gateway commit + PUBACK -> ACK) against a plain MQTT QoS 1 PUBACK round
 * trip to the same gateway, measured in the same run.
 *
 * Kernel PTYs ignore the baud rate: bytes move as fast as socat copies them.
 * So each baud is measured twice: unpaced (what the bridge can take) and with
 * the device's writes paced to the baud rate (what a real UART would allow).
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/bridge.js [frames]
 */
import mqtt from 'mqtt';
import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { Bridge } from '../../firmware-bridge/src/bridge.js';
import { parseBridgeConfig } from '../../firmware-bridge/src/config.js';
import { encodeCbor, encodeFrame, FrameType } from '../../firmware-bridge/src/protocol/index.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';

const FRAMES = Number(process.argv[2] ?? 5000);
const RTT_SAMPLES = 300;
const body = (i: number) => encodeCbor({ i, t: 21.5, ok: true });
const wireBytes = encodeFrame({ type: FrameType.Data, seq: 0x1234, topic: 'bench', body: body(1000) }).length;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/**
 * Raw PTY throughput through socat, no protocol: the ceiling for the unpaced rows.
 * Plain SerialPort objects on both ends; the 4 MiB burst is written at once.
 */
async function rawPtyBytesPerSecond(): Promise<number> {
  const pty = await PtyPair.open();
  const open = (path: string) =>
    new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path, baudRate: 921_600, autoOpen: false });
      p.open((err) => (err ? reject(err) : resolve(p)));
    });
  const a = await open(pty.devicePath);
  const b = await open(pty.hostPath);
  const total = 4 * 1024 * 1024;
  let got = 0;
  const start = performance.now();
  const done = new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`raw PTY copy: ${got} of ${total} bytes after 30 s`)),
      30_000,
    );
    b.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= total) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  for (let i = 0; i < total / 65536; i++) a.write(Buffer.alloc(65536, 1));
  await done;
  const secs = (performance.now() - start) / 1000;
  await new Promise((r) => a.close(r));
  await new Promise((r) => b.close(r));
  await pty.close();
  return total / secs;
}

async function withBridge<T>(
  gw: GatewayProcess,
  baud: number,
  fn: (sim: SimulatedFirmware, paced: SimulatedFirmware | null) => Promise<T>,
  paced: boolean,
): Promise<T> {
  const pty = await PtyPair.open();
  const config = parseBridgeConfig(
    {
      gateway: { url: `mqtt://127.0.0.1:${gw.mqttPort}` },
      ports: [{ path: pty.hostPath, baudRate: baud }],
      buffer: { maxMessages: 1_000_000, maxBytes: '1GB' },
      status: { enabled: false },
    },
    'bench',
  );
  const bridge = new Bridge(config, pino({ level: 'silent' }), 0);
  await bridge.start();
  while (bridge.status().ports[0]?.state !== 'open') await new Promise((r) => setTimeout(r, 10));
  const sim = new SimulatedFirmware({
    path: pty.devicePath,
    deviceId: `bench-${baud}-${paced ? 'p' : 'u'}`,
    baudRate: baud,
    ...(paced ? { paceBaud: baud } : {}),
  });
  await sim.open();
  if (!(await sim.hello()).ok) throw new Error('HELLO not acknowledged');
  try {
    return await fn(sim, paced ? sim : null);
  } catch (err) {
    const t = bridge.status().totals;
    throw new Error(
      `${(err as Error).message}; bridge: ${JSON.stringify({ published: t.published, nacks: t.nacksSent, decoder: t.decoder })}`,
    );
  } finally {
    await sim.close();
    await bridge.stop();
    await pty.close();
  }
}

/** N DATA frames written back to back (a window as large as N); rate = N / time to the last ACK. */
async function pipelined(sim: SimulatedFirmware, n: number): Promise<number> {
  let acks = 0;
  const seqs = new Set<number>();
  const done = new Promise<void>((resolve) =>
    sim.on('frame', (f) => {
      if (f.type === FrameType.Ack && seqs.delete(f.seq) && ++acks === n) resolve();
    }),
  );
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const seq = sim.takeSeq();
    seqs.add(seq);
    sim.sendFrame({ type: FrameType.Data, seq, topic: 'bench', body: body(i) });
  }
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`pipelined: ${acks}/${n} ACKs after 30 s`)), 30_000).unref(),
  );
  await Promise.race([done, timeout]);
  return n / ((performance.now() - start) / 1000);
}

async function stopAndWait(sim: SimulatedFirmware, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await sim.sendData('bench', { i, t: 21.5, ok: true });
    if (!r.ok || r.tries !== 1) throw new Error(`frame ${i}: ${JSON.stringify(r)}`);
    out.push(r.elapsedMs);
  }
  return out;
}

async function mqttRtt(gw: GatewayProcess, n: number): Promise<number[]> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId: 'bench-mqtt-ref' });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.publishAsync('devices/bench-mqtt-ref/bench', Buffer.from(body(i)), { qos: 1 });
    out.push(performance.now() - t);
  }
  await c.endAsync();
  return out;
}

async function main(): Promise<void> {
  const gw = await startGateway({
    sinks: { local: { type: 'file' } },
    routes: { all: { from: '#', to: 'local' } },
  });
  const rows: string[][] = [];
  const rtt: string[][] = [];
  try {
    const raw = await rawPtyBytesPerSecond();
    rows.push(['raw PTY copy (no protocol)', '-', '4 MiB', (raw / wireBytes).toFixed(0), '-', '-']);
    // warm-up (JIT, first connections), not reported
    await withBridge(gw, 115_200, (sim) => pipelined(sim, 1000), false);
    for (const baud of [115_200, 921_600]) {
      const line = baud / 10 / wireBytes;
      const unpaced = await withBridge(gw, baud, (sim) => pipelined(sim, FRAMES), false);
      rows.push([
        'pipelined, unpaced PTY',
        String(baud),
        String(FRAMES),
        unpaced.toFixed(0),
        line.toFixed(0),
        (unpaced / line).toFixed(2),
      ]);
      const n = Math.max(200, Math.round(line * 3));
      const paced = await withBridge(gw, baud, (sim) => pipelined(sim, n), true);
      rows.push([
        'pipelined, paced to baud',
        String(baud),
        String(n),
        paced.toFixed(0),
        line.toFixed(0),
        (paced / line).toFixed(2),
      ]);
      const sw = await withBridge(gw, baud, (sim) => stopAndWait(sim, RTT_SAMPLES), true);
      const swRate = 1000 / (sw.reduce((a, b) => a + b, 0) / sw.length);
      rows.push([
        'stop-and-wait, paced',
        String(baud),
        String(RTT_SAMPLES),
        swRate.toFixed(0),
        line.toFixed(0),
        (swRate / line).toFixed(2),
      ]);
      rtt.push([
        'bridge ACK round trip, paced',
        String(baud),
        pct(sw, 0.5).toFixed(2),
        pct(sw, 0.99).toFixed(2),
      ]);
    }
    const un = await withBridge(gw, 921_600, (sim) => stopAndWait(sim, RTT_SAMPLES), false);
    rtt.push(['bridge ACK round trip, unpaced PTY', '-', pct(un, 0.5).toFixed(2), pct(un, 0.99).toFixed(2)]);
    const ref = await mqttRtt(gw, RTT_SAMPLES);
    rtt.push([
      'reference: MQTT QoS 1 PUBACK, same gateway',
      '-',
      pct(ref, 0.5).toFixed(2),
      pct(ref, 0.99).toFixed(2),
    ]);
  } finally {
    await gw.stop();
  }
  const table = (head: string[], body: string[][]) => {
    const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const fmt = (r: string[]) =>
      `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
    return [fmt(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...body.map(fmt)].join('\n');
  };
  console.log(
    `\nbench:bridge — DATA frame of ${wireBytes} wire bytes (8N1: 10 bits per byte); gateway: file sink, durability power-loss`,
  );
  console.log(table(['case', 'baud', 'frames', 'frames/s', 'line rate', 'ratio'], rows));
  console.log();
  console.log(table(['ACK round trip (ms)', 'baud', 'p50', 'p99'], rtt));
  console.log(
    '\nPTYs ignore the baud rate: unpaced rows show what the bridge and gateway can take, paced rows what a UART allows.',
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
