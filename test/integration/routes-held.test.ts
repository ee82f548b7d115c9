/**
 * Routes through the real broker, queue and file sink, with the clock of
 * time-based steps faked (the only injected part): an aggregate window that
 * opens in one gateway process, survives a clean restart in the state file,
 * and is sent when it closes; JSONata where and map on the way. Then
 * `tidegate check-config` (the real CLI) refusing broken route configs with
 * their paths.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { decode as cborDecode } from 'cbor-x';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/src/app.js';
import { parseConfig } from '../../gateway/src/config/load.js';
import { compileRoutes } from '../../gateway/src/transform/compile.js';
import { tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { gatewayCli } from '../support/paths.js';
import { readFileSink } from '../support/records.js';

const run = promisify(execFile);
const clock = { t: 0 };
const running: Gateway[] = [];
afterEach(async () => {
  for (const g of running.splice(0)) await g.stop();
});

async function start(dataDir: string, routes: Record<string, unknown> = minuteRoute): Promise<Gateway> {
  const config = parseConfig(
    {
      gatewayId: 'gw-h',
      dataDir,
      mqtt: { port: 0, host: '127.0.0.1' },
      status: { enabled: false },
      sinks: { stats: { type: 'file', path: 'stats', batch: { linger: 0 } } },
      routes,
    },
    'test',
  );
  const gw = new Gateway(config, {
    logger: pino({ level: 'silent' }),
    compileRoutes: (c, ctx) => compileRoutes(c, ctx && { ...ctx, now: () => clock.t }),
  });
  running.push(gw);
  await gw.start();
  return gw;
}

const minuteRoute = {
  minute: {
    from: 'plant/+deviceId/temp',
    decode: 'auto',
    where: '$not(status = "calibrating")',
    steps: [
      { type: 'map', expr: '{ "c": raw / 10 }' },
      { type: 'aggregate', window: '1m', fields: ['c'], ops: ['count', 'min', 'max', 'mean'] },
      { type: 'enrich', deviceId: 'device' },
    ],
    encode: 'json',
    to: 'stats',
  },
};

async function publish(gw: Gateway, payloads: unknown[]): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
    clientId: 'p1',
    reconnectPeriod: 0,
  });
  for (const p of payloads) await c.publishAsync('plant/p1/temp', JSON.stringify(p), { qos: 1 });
  await c.endAsync();
}

describe('aggregate through the broker, across a restart', () => {
  it('keeps an open window over a clean restart and sends it, once, when it closes', async () => {
    const dir = tempDir();
    clock.t = 60_000;
    const gw1 = await start(dir);
    await publish(gw1, [{ raw: 200 }, { raw: 240, status: 'calibrating' }, { raw: 215 }]);
    await gw1.stop();
    running.splice(0);
    expect(existsSync(join(dir, 'route-state.cbor'))).toBe(true);
    expect(await readFileSink(join(dir, 'stats'))).toEqual([]);

    clock.t = 90_000;
    const gw2 = await start(dir);
    await publish(gw2, [{ raw: 190 }, { raw: 'x' }]); // 'x' / 10 fails the map: a dead letter, not a crash
    clock.t = 120_000;
    const recs = await until(async () => {
      const r = await readFileSink(join(dir, 'stats'));
      return r.length > 0 ? r : null;
    });
    expect(recs.map((r) => [r.deviceId, r.route, r.contentType, r.payload])).toEqual([
      [
        'p1',
        'minute',
        'application/json',
        {
          windowStart: 60_000,
          windowEnd: 120_000,
          count: 3,
          c: { count: 3, min: 19, max: 21.5, mean: (20 + 21.5 + 19) / 3 },
          device: 'p1',
        },
      ],
    ]);
    const snap = await gw2.snapshot();
    expect(snap.sinks[0]!.dropped).toMatchObject({ dead_lettered: 1 });
    expect(snap.queue.deadLetters).toBe(1);
    // the window went out: after another restart nothing is sent twice
    await gw2.stop();
    running.splice(0);
    clock.t = 200_000;
    const gw3 = await start(dir);
    await new Promise((r) => setTimeout(r, 1200));
    await gw3.stop();
    expect(await readFileSink(join(dir, 'stats'))).toHaveLength(1);
  });
});

describe('a closed window that fails a later step', () => {
  it('goes to the dead letters with its step, device and value, counted, and nothing is sent', async () => {
    const dir = tempDir();
    clock.t = 60_000;
    const gw = await start(dir, {
      checked: {
        from: 'plant/+deviceId/temp',
        decode: 'json',
        steps: [
          { type: 'aggregate', window: '1m', fields: ['raw'], ops: ['count', 'max'] },
          { type: 'filter', when: 'count > "x"' }, // a number compared with a string: an error per window
        ],
        encode: 'json',
        to: 'stats',
      },
    });
    await publish(gw, [{ raw: 200 }, { raw: 215 }]);
    clock.t = 120_000;
    await until(async () => (await gw.snapshot()).queue.deadLetters === 1);
    const db = new Database(join(dir, 'tidegate.db'), { readonly: true });
    const rows = db
      .prepare<
        [],
        { reason: string; stage: string; route: string; device: string; topic: string; payload: Buffer }
      >('SELECT reason, stage, route, device, topic, payload FROM dead_letters')
      .all();
    db.close();
    expect(rows.map((r) => [r.stage, r.route, r.device, r.topic, cborDecode(r.payload)])).toEqual([
      [
        'steps.1:filter',
        'checked',
        'p1',
        'plant/p1/temp',
        { windowStart: 60_000, windowEnd: 120_000, count: 2, raw: { count: 2, max: 215 } },
      ],
    ]);
    expect(rows[0]!.reason).toMatch(/same type/);
    // the two readings absorbed by the window count as filtered at ingest; the window as dead-lettered
    expect((await gw.snapshot()).sinks[0]!.dropped).toEqual({ filtered: 2, dead_lettered: 1 });
    expect(await readFileSink(join(dir, 'stats'))).toEqual([]);
  });
});

describe('tidegate check-config on route errors', () => {
  const cases: Array<[string, string, string]> = [
    [
      'a broken expression',
      'routes:\n  r1:\n    from: a/#\n    decode: json\n    steps:\n      - { type: set, fields: { a: 1 } }\n      - { type: drop, fields: [b] }\n      - { type: map, expr: "{ \\"a\\": }" }\n    to: s\n',
      'routes.r1.steps.2.expr: invalid expression "{ "a": }": ',
    ],
    [
      'an unknown step type',
      'routes:\n  r1:\n    from: a/#\n    decode: json\n    steps: [{ type: teleport }]\n    to: s\n',
      'routes.r1.steps.0.type: unknown value "teleport"',
    ],
    [
      'a route to a missing sink',
      'routes:\n  r1:\n    from: a/#\n    to: nowhere\n',
      'routes.r1.to: no sink named "nowhere"',
    ],
  ];
  it.each(cases)('refuses %s with its path (exit 2)', async (_name, routes, want) => {
    const file = join(tempDir(), 'tidegate.yaml');
    writeFileSync(file, `sinks:\n  s: { type: file }\n${routes}`);
    const err = await run(process.execPath, [gatewayCli, 'check-config', file]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain(want);
  });
});
