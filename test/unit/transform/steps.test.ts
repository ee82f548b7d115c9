import { encode as cborEncode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../../gateway/src/transform/condition.js';
import { decodePayload } from '../../../gateway/src/transform/decode.js';
import type { StepMessage } from '../../../gateway/src/transform/step.js';
import { createStep, type StepConfig } from '../../../gateway/src/transform/steps/index.js';

function msg(value: unknown): StepMessage {
  return {
    value,
    topic: 'devices/d1/t',
    deviceId: 'd1',
    params: { deviceId: 'd1' },
    receivedAt: 1000,
    gatewayId: 'gw',
    encode: 'json',
  };
}

describe('conditions', () => {
  const f = (value: unknown) => ({
    value,
    topic: 'devices/d1/t',
    deviceId: 'd1',
    params: { deviceId: 'd1' },
  });
  // [text, payload, result, fast path taken]
  it.each<[string, unknown, boolean, boolean]>([
    ['t > 20', { t: 21 }, true, true],
    ['t > 20', { t: 20 }, false, true],
    ['t > 20', { t: Number.NaN }, false, true],
    ['t > 20', {}, false, true], // missing field
    ['t != 20', {}, false, true], // JSONata: a missing field is not unequal either
    ['t <= -1.5', { t: -1.5 }, true, true],
    ['a.b.c = "x"', { a: { b: { c: 'x' } } }, true, true],
    ['a.b.c = "x"', { a: null }, false, true],
    ['a.b.c = "x and y"', { a: { b: { c: 'x and y' } } }, true, true],
    ['ok = true and n != null', { ok: true, n: 0 }, true, true],
    ['ok = true and n != null', { ok: true, n: null }, false, true],
    ['$deviceId = "d1"', 42, true, true],
    ['$params.deviceId = "d2"', {}, false, true],
    ['name >= "m"', { name: 'zeta' }, true, true],
    ['constructor = 1', {}, false, true],
    ['a.b > 1', { a: [{ b: 2 }] }, true, true], // an array on the way: JSONata answers
    ['t > 20 or u < 3', { t: 0, u: 1 }, true, false],
    ['$contains($topic, "/t")', {}, true, false],
    ['t', { t: 'yes' }, false, false], // only `true` passes
  ])('%s on %j -> %s', async (text, value, want, fast) => {
    const c = compileCondition(text);
    expect(c.fast).toBe(fast);
    expect(await c(f(value))).toBe(want);
  });
  it.each<[string, unknown]>([
    ['t > 20', { t: '21' }],
    ['t > 20', { t: null }],
    ['t > 20', { t: true }],
  ])('%s on %j fails like JSONata (mixed types)', async (text, value) => {
    await expect(async () => compileCondition(text)(f(value))).rejects.toThrow(/either side/);
  });
  it.each(['t >> 2', 't > ', 'temperature is high', '(t > 2', 't > 1e400', 's = "\\q"'])(
    'refuses "%s" with a readable error',
    (text) => {
      expect(() => compileCondition(text)).toThrow(/^invalid expression ".*": .+ \(at character \d+\)$/);
    },
  );
});

describe('conditions written with ==', () => {
  it('are refused with a hint to use =', () => {
    expect(() => compileCondition('t == 1')).toThrow(/compare with =, not ==/);
  });
});

describe('decode', () => {
  it('reads JSON, CBOR, raw, and sniffs with auto', () => {
    expect(decodePayload(Buffer.from('{"a":1}'), 'json')).toEqual({
      ok: true,
      value: { a: 1 },
      format: 'json',
    });
    expect(decodePayload(Buffer.from(cborEncode({ a: 1 })), 'cbor')).toEqual({
      ok: true,
      value: { a: 1 },
      format: 'cbor',
    });
    expect(decodePayload(Buffer.from(cborEncode({ a: 1 })), 'auto')).toMatchObject({
      ok: true,
      format: 'cbor',
    });
    expect(decodePayload(Buffer.from(' [1,2]'), 'auto')).toMatchObject({
      ok: true,
      value: [1, 2],
      format: 'json',
    });
    expect(decodePayload(Buffer.from([1, 2]), 'raw')).toMatchObject({ ok: true, format: 'raw' });
  });
  it('fails bad payloads with the reason, never throws', () => {
    expect(decodePayload(Buffer.from('{"a":'), 'json')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^invalid JSON/),
    });
    expect(
      decodePayload(Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 'cbor'),
    ).toMatchObject({ ok: false });
    expect(decodePayload(Buffer.alloc(0), 'auto')).toEqual({ ok: false, reason: 'empty payload' });
  });
});

describe('steps', () => {
  const run = (c: StepConfig, value: unknown) => {
    const m = msg(value);
    const out = createStep(c).run(m);
    return { out, m };
  };
  it('filter keeps or filters, synchronously on the fast path and through JSONata otherwise', async () => {
    expect(run({ type: 'filter', when: 't > 0' }, { t: 1 }).out).toEqual({ keep: true });
    expect(run({ type: 'filter', when: 't > 0' }, { t: -1 }).out).toEqual({ keep: false, filtered: true });
    const slow = run(
      { type: 'filter', when: '$count(readings[v > 3]) > 1' },
      { readings: [{ v: 4 }, { v: 5 }] },
    );
    expect(slow.out).toBeInstanceOf(Promise);
    expect(await slow.out).toEqual({ keep: true });
    expect(
      await run({ type: 'filter', when: '$count(readings[v > 3]) > 1' }, { readings: [{ v: 4 }] }).out,
    ).toEqual({ keep: false, filtered: true });
  });
  it('map replaces the payload, sees the bindings, and fails a message when the expression does', async () => {
    const { out, m } = run(
      {
        type: 'map',
        expr: '{ "temperature": t / 10, "device": $deviceId, "site": $params.deviceId & "-s" }',
      },
      { t: 215, x: 1 },
    );
    expect(await out).toEqual({ keep: true });
    expect(m.value).toEqual({ temperature: 21.5, device: 'd1', site: 'd1-s' });
    expect(await run({ type: 'map', expr: 'missing' }, { t: 1 }).out).toEqual({
      keep: false,
      error: 'map: the expression gave no value',
    });
    expect(await run({ type: 'map', expr: 't + 1' }, { t: 'x' }).out).toMatchObject({
      keep: false,
      error: expect.stringMatching(/^map: .*must evaluate to a number/),
    });
    // unbounded recursion is cut by the depth limit instead of hanging ingest
    expect(
      await run({ type: 'map', expr: '($f := function($n) { $f($n + 1) }; $f(0))' }, {}).out,
    ).toMatchObject({ keep: false, error: expect.stringMatching(/^map: .*(stack|depth|timeout)/i) });
  });
  it('set writes nested fields, and fails on a payload that is not an object', () => {
    expect(run({ type: 'set', fields: { site: 'north', 'meta.unit': 'C' } }, { t: 1 }).m.value).toEqual({
      t: 1,
      site: 'north',
      meta: { unit: 'C' },
    });
    expect(run({ type: 'set', fields: { a: 1 } }, [1, 2]).out).toEqual({
      keep: false,
      error: 'payload is not an object',
    });
  });
  it('rename moves fields and skips missing ones', () => {
    expect(
      run(
        { type: 'rename', fields: { t: 'temperature', 'x.y': 'z', gone: 'nowhere' } },
        { t: 1, x: { y: 2 } },
      ).m.value,
    ).toEqual({
      temperature: 1,
      x: {},
      z: 2,
    });
  });
  it('drop removes fields, nested ones too', () => {
    expect(
      run({ type: 'drop', fields: ['a', 'b.c', 'missing.x'] }, { a: 1, b: { c: 2, d: 3 } }).m.value,
    ).toEqual({ b: { d: 3 } });
  });
  it('enrich adds gateway, time, device and topic wildcards', () => {
    const { m } = run(
      { type: 'enrich', gatewayId: 'gw', receivedAt: 'at', deviceId: 'dev', params: 'p' },
      { t: 1 },
    );
    expect(m.value).toEqual({ t: 1, gw: 'gw', at: 1000, dev: 'd1', p: { deviceId: 'd1' } });
  });
  it('encode sets the output format', () => {
    expect(run({ type: 'encode', format: 'cbor' }, {}).m.encode).toBe('cbor');
  });
});
