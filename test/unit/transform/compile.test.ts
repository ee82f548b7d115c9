/**
 * The route runner: what each kind of failure becomes (with the step it
 * happened in), sync results where no JSONata runs, and the route clock
 * sending due windows through the rest of the route and saving state to a
 * real file (the emitter is a plain function here: the queue is tested elsewhere).
 */
import { join } from 'node:path';
import { encode as cborEncode } from 'cbor-x';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/src/config/load.js';
import type { QueuedMessage } from '../../../gateway/src/contracts/record.js';
import type { CompiledRoute, IngestMessage } from '../../../gateway/src/ingest/route.js';
import { compileRoutes } from '../../../gateway/src/transform/compile.js';
import { decodePayload } from '../../../gateway/src/transform/decode.js';
import { readState } from '../../../gateway/src/transform/state-file.js';
import { tempDir } from '../../support/gateway-process.js';
import { until } from '../../support/in-process.js';

function routes(r: Record<string, unknown>, dataDir = tempDir()) {
  return parseConfig({ dataDir, sinks: { s: { type: 'file' } }, routes: r }, 't', {});
}
const msg = (payload: Buffer | string, topic = 'd/dev1'): IngestMessage => ({
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  clientId: 'c1',
  receivedAt: 5,
});
const one = (r: Record<string, unknown>) =>
  compileRoutes(routes({ r: { from: 'd/+deviceId', to: 's', ...r } }))[0]!;

describe('route runner', () => {
  it.each<[string, Record<string, unknown>, Buffer | string, unknown]>([
    ['undecodable', { decode: 'json' }, '{', { kind: 'dead-letter', step: 'decode' }],
    ['where false', { decode: 'json', where: 't > 1' }, '{"t":0}', { kind: 'filtered', step: 'where' }],
    [
      'where failing on the payload',
      { decode: 'json', where: 't > 1' },
      '{"t":"x"}',
      { kind: 'dead-letter', step: 'where', reason: expect.stringMatching(/^where: .*same type/) },
    ],
    [
      'a step failing',
      { decode: 'json', steps: [{ type: 'set', fields: { a: 1 } }] },
      '[1]',
      { kind: 'dead-letter', step: 'steps.0:set', reason: 'payload is not an object' },
    ],
    [
      'a filter step',
      {
        decode: 'json',
        steps: [
          { type: 'drop', fields: ['x'] },
          { type: 'filter', when: 't = 2' },
        ],
      },
      '{"t":1}',
      { kind: 'filtered', step: 'steps.1:filter' },
    ],
    [
      'a value JSON cannot carry (a CBOR bignum)',
      { decode: 'cbor', encode: 'json' },
      Buffer.from(cborEncode({ n: 2n ** 70n })),
      {
        kind: 'dead-letter',
        step: 'encode',
        reason: expect.stringMatching(/^cannot encode the output as json/),
      },
    ],
  ])('%s', async (_name, r, payload, want) => {
    const route = one(r);
    expect(await route.run(msg(payload), route.match('d/dev1')!)).toMatchObject(want as object);
  });

  it('answers synchronously on the fast path and asynchronously with JSONata, same records', async () => {
    const fast = one({ decode: 'json', where: 't > 1', steps: [{ type: 'set', fields: { k: 1 } }] });
    const slow = one({
      decode: 'json',
      where: '$not(t <= 1)',
      steps: [{ type: 'map', expr: '$merge([$, {"k": 1}])' }],
    });
    const a = fast.run(msg('{"t":2}'), { deviceId: 'dev1' });
    const b = slow.run(msg('{"t":2}'), { deviceId: 'dev1' });
    expect(a).not.toBeInstanceOf(Promise);
    expect(b).toBeInstanceOf(Promise);
    const want = {
      kind: 'queue',
      messages: [
        {
          sink: 's',
          route: 'r',
          deviceId: 'dev1',
          topic: 'd/dev1',
          receivedAt: 5,
          contentType: 'application/json',
          payload: Buffer.from('{"t":2,"k":1}'),
        },
      ],
    };
    expect(a).toEqual(want);
    expect(await b).toEqual(want);
  });

  it('decoding never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom('json', 'cbor', 'auto') as fc.Arbitrary<'json' | 'cbor' | 'auto'>,
        (bytes, mode) => {
          const d = decodePayload(Buffer.from(bytes), mode);
          expect(typeof d.ok).toBe('boolean');
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('route clock', () => {
  it('sends closed windows through the steps after the aggregate, and saves open ones to the state file', async () => {
    const dir = tempDir();
    const clock = { t: 0 };
    const sent: QueuedMessage[] = [];
    const config = routes(
      {
        agg: {
          from: 'd/+deviceId',
          decode: 'json',
          steps: [
            { type: 'aggregate', window: '10s', fields: ['t'], ops: ['max'] },
            { type: 'filter', when: 'count > 1' },
            { type: 'encode', format: 'json' },
          ],
          to: 's',
        },
      },
      dir,
    );
    const ctx = {
      emit: async (m: QueuedMessage[]) => void sent.push(...m),
      log: pino({ level: 'silent' }),
      now: () => clock.t,
    };
    const [route] = compileRoutes(config, ctx) as [CompiledRoute];
    const feed = async (t: number, dev: string, v: number) => {
      clock.t = t;
      expect(await route.run(msg(JSON.stringify({ t: v }), `d/${dev}`), { deviceId: dev })).toEqual({
        kind: 'filtered',
        step: 'steps.0:aggregate',
      });
    };
    await feed(1000, 'a', 1);
    await feed(2000, 'a', 3);
    await feed(3000, 'b', 9); // one message: the filter after the aggregate drops its window
    await feed(12_000, 'a', 5); // opens a's next window
    clock.t = 12_500;
    await until(() => sent.length > 0); // the real timer ticks every 500 ms; both windows close in one tick
    expect(sent.map((m) => [m.deviceId, JSON.parse(m.payload.toString())])).toEqual([
      ['a', { windowStart: 0, windowEnd: 10_000, count: 2, t: { max: 3 } }],
    ]);
    await route.stop!();
    const state = readState(join(dir, 'route-state.cbor'));
    const key = Object.keys(state)[0]!;
    expect(key).toMatch(/^agg\/steps\.0\/[0-9a-f]{12}$/);
    expect(state[key]).toMatchObject({ open: [{ deviceId: 'a', start: 10_000, count: 1 }], ready: [] });
  });
});
