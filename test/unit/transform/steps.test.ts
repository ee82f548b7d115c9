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
  it.each<[string, unknown, boolean]>([
    ['t > 20', { t: 21 }, true],
    ['t > 20', { t: 20 }, false],
    ['t > 20', { t: '21' }, false], // wrong type never orders
    ['t > 20', { t: Number.NaN }, false],
    ['t > 20', {}, false], // missing field
    ['t <= -1.5', { t: -1.5 }, true],
    ['a.b.c == "x"', { a: { b: { c: 'x' } } }, true],
    ['a.b.c == "x"', { a: null }, false],
    ['ok == true and n != null', { ok: true, n: 0 }, true],
    ['ok == true and n != null', { ok: true, n: null }, false],
    ['$deviceId == "d1"', 42, true],
    ['$params.deviceId == "d2"', {}, false],
    ['name >= "m"', { name: 'zeta' }, true],
  ])('%s on %j -> %s', (text, value, want) => {
    expect(compileCondition(text)(f(value))).toBe(want);
  });
  it.each(['t >> 2', 't > ', 'temperature is high', 't > 2 or u < 3'])(
    'refuses "%s" with a readable error',
    (text) => {
      expect(() => compileCondition(text)).toThrow(/cannot read condition/);
    },
  );
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
    const out = createStep(c)(m);
    return { out, m };
  };
  it('filter keeps or filters', () => {
    expect(run({ type: 'filter', when: 't > 0' }, { t: 1 }).out).toEqual({ keep: true });
    expect(run({ type: 'filter', when: 't > 0' }, { t: -1 }).out).toEqual({ keep: false, filtered: true });
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
