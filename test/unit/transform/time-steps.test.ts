import { describe, expect, it } from 'vitest';
import type { StepMessage, StepOutcome } from '../../../gateway/src/transform/step.js';
import { createDeadband, deadbandSchema } from '../../../gateway/src/transform/steps/deadband.js';
import { createDownsample, downsampleSchema } from '../../../gateway/src/transform/steps/downsample.js';

function msg(deviceId: string, value: unknown): StepMessage {
  return { value, topic: 't', deviceId, params: {}, receivedAt: 0, gatewayId: 'gw', encode: 'json' };
}

describe('deadband', () => {
  it.each<[string, Record<string, unknown>, Array<[number, unknown]>, boolean[]]>([
    [
      'absolute delta',
      { abs: 0.5 },
      [
        [0, { t: 20 }],
        [1, { t: 20.4 }],
        [2, { t: 20.6 }],
        [3, { t: 20.2 }],
      ],
      [true, false, true, false],
    ],
    [
      'percent delta',
      { percent: 10 },
      [
        [0, { t: 100 }],
        [1, { t: 109 }],
        [2, { t: 111 }],
      ],
      [true, false, true],
    ],
    [
      'heartbeat after maxInterval',
      { abs: 5, maxInterval: 1000 },
      [
        [0, { t: 1 }],
        [500, { t: 1 }],
        [1000, { t: 1 }],
      ],
      [true, false, true],
    ],
    [
      'missing field, wrong type, NaN do not move it',
      { abs: 1 },
      [
        [0, { t: 1 }],
        [1, {}],
        [2, { t: 'x' }],
        [3, { t: Number.NaN }],
      ],
      [true, false, false, false],
    ],
    [
      'nested fields',
      { abs: 1, fields: ['a.b'] },
      [
        [0, { a: { b: 1 } }],
        [1, { a: { b: 3 } }],
      ],
      [true, true],
    ],
    [
      'clock going backwards forwards once',
      { abs: 5, maxInterval: 1000 },
      [
        [5000, { t: 1 }],
        [4000, { t: 1 }],
        [4100, { t: 1 }],
      ],
      [true, true, false],
    ],
  ])('%s', (_name, extra, inputs, want) => {
    let now = 0;
    const step = createDeadband(deadbandSchema.parse({ type: 'deadband', fields: ['t'], ...extra }), {
      now: () => now,
    });
    const got = inputs.map(([t, v]) => {
      now = t;
      return (step(msg('d1', v)) as StepOutcome).keep;
    });
    expect(got).toEqual(want);
  });

  it('keeps state per device', () => {
    const db = createDeadband(deadbandSchema.parse({ type: 'deadband', fields: ['t'], abs: 1 }), {
      now: () => 0,
    });
    const step = (m: StepMessage) => db(m) as StepOutcome;
    expect([
      step(msg('a', { t: 1 })).keep,
      step(msg('b', { t: 1 })).keep,
      step(msg('a', { t: 1.5 })).keep,
    ]).toEqual([true, true, false]);
  });

  it('needs abs or percent', () => {
    expect(deadbandSchema.safeParse({ type: 'deadband', fields: ['t'] }).success).toBe(false);
  });
});

describe('downsample', () => {
  it('lets the first message of each interval through, per device, and survives a clock going backwards', () => {
    let now = 0;
    const step = createDownsample(downsampleSchema.parse({ type: 'downsample', interval: '1s' }), {
      now: () => now,
    }).run;
    const seq: Array<[number, string]> = [
      [0, 'a'],
      [100, 'a'],
      [200, 'b'],
      [999, 'a'],
      [1000, 'a'],
      [500, 'a'],
      [600, 'a'],
    ];
    const got = seq.map(([t, d]) => {
      now = t;
      return (step(msg(d, {})) as StepOutcome).keep;
    });
    expect(got).toEqual([true, false, true, false, true, true, false]);
  });
});
