/**
 * node dist/test/bench/transform.js: what routes cost.
 * 1. Per step, in process: µs per message over the same realistic payloads,
 *    with JSON.parse of that payload as the reference.
 * 2. Ingest through the real gateway (child process, broker, SQLite queue,
 *    file sinks), QoS 1, in one run: a pass-through route, a realistic
 *    3-step route on the fast path, and the same with a JSONata map.
 * Prints Markdown tables. Not a test: numbers depend on the machine.
 */
import { cpus, totalmem } from 'node:os';
import { encode as cborEncode } from 'cbor-x';
import jsonata from 'jsonata';
import mqtt from 'mqtt';
import { parseConfig } from '../../gateway/src/config/load.js';
import { compileRoutes } from '../../gateway/src/transform/compile.js';
import { compileExpression } from '../../gateway/src/transform/expression.js';
import type { StepMessage } from '../../gateway/src/transform/step.js';
import { createStep, stepSchema } from '../../gateway/src/transform/steps/index.js';
import { startGateway } from '../support/gateway-process.js';

const N = Number(process.env.BENCH_N ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const reading = (i: number) => ({
  t: 20 + (i % 17) * 0.7,
  h: 4000 + (i % 13),
  status: i % 50 === 0 ? 'warn' : 'ok',
  battery: 3.7,
  fw: '1.4.2',
  debug: { adc: [512, 513, 511], rssi: -61 },
  seq: i,
});
const JSON_PAYLOADS = Array.from({ length: 64 }, (_, i) => Buffer.from(JSON.stringify(reading(i))));
const CBOR_PAYLOADS = Array.from({ length: 64 }, (_, i) => Buffer.from(cborEncode(reading(i))));

function messages(): StepMessage[] {
  return Array.from({ length: N }, (_, i) => ({
    value: reading(i),
    topic: `site/dev${i % 100}/telemetry`,
    deviceId: `dev${i % 100}`,
    params: { deviceId: `dev${i % 100}` },
    receivedAt: 1_700_000_000_000 + i,
    gatewayId: 'gw',
    encode: 'json',
  }));
}

/** µs per call of f over N prepared inputs; awaits only what returns a promise */
async function time<T>(inputs: T[], f: (x: T) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(2000, inputs.length); i++) await f(inputs[i]!); // warm-up
  const t0 = performance.now();
  for (const x of inputs) {
    const r = f(x);
    if (r instanceof Promise) await r;
  }
  return ((performance.now() - t0) * 1000) / inputs.length;
}

const STEPS: Array<[string, Record<string, unknown>]> = [
  ['filter (fast path)', { type: 'filter', when: 't > 20 and status = "ok"' }],
  ['filter (JSONata: $not, no fast path)', { type: 'filter', when: '$not(t <= 20) and status = "ok"' }],
  ['map (JSONata)', { type: 'map', expr: '{ "temperature": t, "humidity": h / 100, "device": $deviceId }' }],
  ['set', { type: 'set', fields: { site: 'north', 'meta.unit': 'C' } }],
  ['rename', { type: 'rename', fields: { t: 'temperature', h: 'humidity' } }],
  ['drop', { type: 'drop', fields: ['debug', 'fw'] }],
  ['enrich', { type: 'enrich', gatewayId: 'gw', receivedAt: 'at', deviceId: 'device' }],
  ['deadband', { type: 'deadband', fields: ['t'], abs: 0.5 }],
  ['downsample (first)', { type: 'downsample', interval: '1s' }],
  ['aggregate', { type: 'aggregate', window: '1m', fields: ['t', 'h'] }],
];

async function perStep(): Promise<string[]> {
  const rows: Array<[string, number]> = [];
  const jsonIn = Array.from({ length: N }, (_, i) => JSON_PAYLOADS[i % 64]!);
  const cborIn = Array.from({ length: N }, (_, i) => CBOR_PAYLOADS[i % 64]!);
  await time(jsonIn, (p) => JSON.parse(p.toString('utf8'))); // the first timed loop also warms the harness
  const ref = await time(jsonIn, (p) => JSON.parse(p.toString('utf8')));
  rows.push(['reference: JSON.parse of the payload', ref]);
  const { decodePayload } = await import('../../gateway/src/transform/decode.js');
  rows.push(['decode json', await time(jsonIn, (p) => decodePayload(p, 'json'))]);
  rows.push(['decode cbor', await time(cborIn, (p) => decodePayload(p, 'cbor'))]);
  const raw = compileExpression('t > 20 and status = "ok"');
  rows.push(['JSONata evaluate of the fast-path condition', await time(messages(), (m) => raw.evaluate(m))]);
  // what the time and depth bounds of compileExpression cost (JSONata checks them on every node)
  const unbounded = jsonata('{ "temperature": t, "humidity": h / 100, "device": $deviceId }');
  rows.push([
    'map expression without time/depth bounds (reference)',
    await time(messages(), (m) => unbounded.evaluate(m.value, { deviceId: m.deviceId })),
  ]);
  for (const [name, c] of STEPS) {
    const s = createStep(stepSchema.parse(c));
    rows.push([name, await time(messages(), (m) => s.run(m))]);
  }
  const { encodeOutput } = await import('../../gateway/src/transform/run.js');
  rows.push(['output json', await time(messages(), (m) => encodeOutput(m, Buffer.alloc(0)))]);
  rows.push([
    'output cbor',
    await time(messages(), (m) => encodeOutput({ ...m, encode: 'cbor' }, Buffer.alloc(0))),
  ]);
  const routes = compileRoutes(parseConfig({ sinks: { s: { type: 'file' } }, routes: ROUTES }, 'bench', {}));
  for (const r of routes) {
    const params = { deviceId: 'dev1' };
    const ms = jsonIn.map((payload, i) => ({
      topic: 'x/dev1',
      payload,
      qos: 1 as const,
      retain: false,
      clientId: 'c',
      receivedAt: i,
    }));
    rows.push([`whole route "${r.name}" (decode + steps + output)`, await time(ms, (m) => r.run(m, params))]);
  }
  return [
    `| step | µs / message | messages/s (one core) | vs JSON.parse |`,
    '|---|---|---|---|',
    ...rows.map(
      ([n, us]) =>
        `| ${n} | ${us.toFixed(2)} | ${Math.round(1e6 / us).toLocaleString('en')} | ${(us / ref).toFixed(1)}x |`,
    ),
  ];
}

const ROUTES = {
  none: { from: 'plain/+deviceId', to: 's' },
  three: {
    from: 'fast/+deviceId',
    decode: 'json',
    where: 'status = "ok"',
    steps: [
      { type: 'drop', fields: ['debug', 'fw'] },
      { type: 'rename', fields: { t: 'temperature', h: 'humidity' } },
      { type: 'enrich', gatewayId: 'gateway', receivedAt: 'at' },
    ],
    to: 's',
  },
  jsonata: {
    from: 'jsonata/+deviceId',
    decode: 'json',
    where: 'status = "ok"',
    steps: [
      { type: 'map', expr: '{ "temperature": t, "humidity": h, "status": status, "battery": battery }' },
      { type: 'rename', fields: { temperature: 'temp' } },
      { type: 'enrich', gatewayId: 'gateway', receivedAt: 'at' },
    ],
    to: 's',
  },
};

/** QoS 1 publishers with 16 in flight each, for SECONDS; returns acked msg/s */
async function load(port: number, prefix: string): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `b-${prefix}-${i}`, reconnectPeriod: 0 }),
    ),
  );
  let acked = 0;
  const end = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      let k = 0;
      const lane = async () => {
        while (Date.now() < end) {
          await c.publishAsync(`${prefix}/dev${i}`, JSON_PAYLOADS[k++ % 64]!, { qos: 1 });
          acked++;
        }
      };
      await Promise.all(Array.from({ length: 16 }, lane));
    }),
  );
  const rate = acked / ((performance.now() - t0) / 1000);
  await Promise.all(clients.map((c) => c.endAsync()));
  return rate;
}

async function ingest(): Promise<string[]> {
  const gw = await startGateway({
    sinks: { s: { type: 'file', path: 'out' } },
    routes: ROUTES,
  });
  try {
    const rates = new Map<string, number[]>();
    // interleaved rounds, so drift of a shared machine hits every route alike; the median is reported
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, prefix] of [
        ['pass-through route (no steps)', 'plain'],
        ['3 steps: where + drop + rename + enrich', 'fast'],
        ['3 steps with a JSONata map', 'jsonata'],
      ] as const) {
        rates.set(name, [...(rates.get(name) ?? []), await load(gw.mqttPort, prefix)]);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ref = median(rates.get('pass-through route (no steps)')!);
    return [
      `| route (${ROUNDS} interleaved rounds of ${SECONDS} s, ${PUBLISHERS} publishers x 16 in flight) | acked msg/s, median | min–max | median vs pass-through |`,
      '|---|---|---|---|',
      ...[...rates].map(
        ([n, xs]) =>
          `| ${n} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} | ${((median(xs) / ref) * 100).toFixed(0)}% |`,
      ),
    ];
  } finally {
    await gw.stop();
  }
}

const header = `Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${N} messages per step row, ${JSON_PAYLOADS[0]!.length}-byte JSON payloads.`;
const steps = await perStep();
const gw = await ingest();
process.stdout.write(`${[header, '', ...steps, '', ...gw].join('\n')}\n`);
