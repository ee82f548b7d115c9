// Tests for the serial protocol codec (firmware-bridge/src/protocol) against
// firmware-bridge/test-vectors/vectors.json plus seeded fuzzing of the
// streaming decoder. Spec: firmware-bridge/PROTOCOL.md.
import { describe, expect, it } from 'vitest';
import {
  ackTimeoutMs,
  cborWellFormed,
  cobsDecode,
  cobsEncode,
  cobsMaxEncodedLength,
  crc16,
  crc16Update,
  type DecodeResult,
  DuplicateFilter,
  decodeCbor,
  decodeFrame,
  encodeCbor,
  encodeFrame,
  encodeRawFrame,
  type Frame,
  FrameDecoder,
  type FrameInput,
  FrameType,
  isValidTopicSuffix,
  MAX_FRAME_LENGTH,
  MAX_PAYLOAD_LENGTH,
  MAX_WIRE_LENGTH,
  NackReason,
  nackAction,
  nackReasonFor,
  nextSeq,
  parseFrame,
  serializeFrame,
} from '../../../firmware-bridge/src/protocol/index.js';
import {
  bodyFromFields,
  hex,
  loadVectors,
  type Prng,
  prng,
  randomFrame,
  unhex,
  vectorInput,
} from './helpers.js';

const vectors = loadVectors();

/** Independent bit-by-bit CRC-16/CCITT-FALSE, to check the table-driven one. */
function crcBitwise(data: Uint8Array): number {
  let c = 0xffff;
  for (const b of data) {
    c ^= b << 8;
    for (let i = 0; i < 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

/** Frames as decodeFrame() returns them for a given input. */
function expectedFrame(f: FrameInput): Frame {
  const r = decodeFrame(encodeFrame(f));
  if (!r.ok) throw new Error(`test frame does not decode: ${r.reason}`);
  return r.frame;
}

/** Reference for the streaming decoder: split at 0x00 and decode each non-empty segment on its own. */
function referenceDecode(stream: Uint8Array): DecodeResult[] {
  const out: DecodeResult[] = [];
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] !== 0) continue;
    if (i > start) out.push(decodeFrame(stream.subarray(start, i)));
    start = i + 1;
  }
  return out;
}

/** Pushes `stream` in random-sized chunks. */
function pushChunked(dec: FrameDecoder, stream: Uint8Array, r: Prng, maxChunk = 64): DecodeResult[] {
  const out: DecodeResult[] = [];
  let i = 0;
  while (i < stream.length) {
    const n = r.int(1, maxChunk);
    out.push(...dec.push(stream.subarray(i, i + n)));
    i += n;
  }
  return out;
}

const summary = (rs: DecodeResult[]) => rs.map((r) => (r.ok ? r.frame : { error: r.reason }));

describe('CRC-16/CCITT-FALSE', () => {
  it('matches the catalogue check value and residue', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x29b1);
    expect(crc16(Buffer.alloc(0))).toBe(0xffff);
    const raw = unhex(vectors.vectors[0]!.rawHex);
    expect(crc16(raw)).toBe(0); // residue over frame + CRC
  });

  it('table-driven, incremental and bitwise implementations agree', () => {
    const r = prng(1);
    for (let i = 0; i < 300; i++) {
      const data = r.bytes(r.int(0, 600), 0.1);
      const cut = r.int(0, data.length);
      const whole = crc16(data);
      expect(whole).toBe(crcBitwise(data));
      expect(crc16(data, cut, data.length, crc16(data, 0, cut))).toBe(whole);
      let c = 0xffff;
      for (const b of data) c = crc16Update(c, b);
      expect(c).toBe(whole);
    }
  });

  it.each(vectors.vectors.map((v) => [v.name, v] as const))('vector %s: crc over header+payload', (_n, v) => {
    const raw = unhex(v.rawHex);
    expect(
      crc16(raw, 0, raw.length - 2)
        .toString(16)
        .padStart(4, '0'),
    ).toBe(v.crcHex);
  });
});

describe('COBS', () => {
  // Examples from Cheshire & Baker / the Wikipedia COBS article.
  const table: [string, string][] = [
    ['', '01'],
    ['00', '0101'],
    ['0000', '010101'],
    ['00110000', '0102110101'],
    ['11223344', '0511223344'],
    ['11220033', '0311220233'],
    ['11223300', '0411223301'],
  ];
  it.each(table)('encodes %s as %s', (dec, enc) => {
    expect(hex(cobsEncode(unhex(dec)))).toBe(enc);
    expect(hex(cobsEncode(unhex(dec), true))).toBe(`${enc}00`);
    const r = cobsDecode(unhex(enc));
    expect(r.ok && hex(r.data)).toBe(dec);
  });

  it('handles 254- and 255-byte zero-free runs canonically', () => {
    const run254 = Buffer.alloc(254).map((_, i) => i + 1);
    const e254 = cobsEncode(run254);
    expect(e254.length).toBe(255);
    expect(e254[0]).toBe(0xff);
    const run255 = Buffer.concat([run254, Buffer.from([0xff])]);
    const e255 = cobsEncode(run255);
    expect(hex(e255.subarray(255))).toBe('02ff');
    // A 254-run followed by a zero needs a 0x01 block for the zero.
    expect(hex(cobsEncode(Buffer.concat([run254, Buffer.from([0])])).subarray(255))).toBe('0101');
    // The non-canonical trailing 0x01 after a 0xFF block is accepted.
    const r = cobsDecode(Buffer.concat([e254, Buffer.from([0x01])]));
    expect(r.ok && r.data.equals(run254)).toBe(true);
  });

  it('round-trips random data and never emits 0x00', () => {
    const r = prng(2);
    for (let i = 0; i < 1000; i++) {
      const data = r.bytes(r.int(0, 1100), r.pick([0, 0.01, 0.3, 0.9]));
      const enc = cobsEncode(data);
      expect(enc.includes(0)).toBe(false);
      expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(data.length));
      const dec = cobsDecode(enc);
      expect(dec.ok && dec.data.equals(data)).toBe(true);
    }
  });

  it('rejects bad input without throwing and caps output', () => {
    expect(cobsDecode(unhex('0511')).ok).toBe(false); // truncated block
    expect(cobsDecode(unhex('031100')).ok).toBe(false); // zero inside a block
    expect(cobsDecode(unhex('0211001122')).ok).toBe(false); // zero as code
    const big = cobsEncode(Buffer.alloc(600, 7));
    const r = cobsDecode(big, 512);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('oversize');
    expect(!r.ok && r.partial.length).toBe(512);
  });
});

describe('CBOR helpers', () => {
  it('well-formedness agrees with the decoder on random bytes', () => {
    const r = prng(3);
    for (let i = 0; i < 3000; i++) {
      const b = r.bytes(r.int(0, 12), 0.2);
      const wf = cborWellFormed(b);
      const d = decodeCbor(b);
      // decodeCbor additionally demands valid UTF-8 in text strings
      if (d.ok) expect(wf).toBe(true);
      if (!wf) expect(d.ok).toBe(false);
    }
  });

  it('encodes deterministically and round-trips', () => {
    expect(hex(encodeCbor({ t: 21.5, n: -3, ok: true }))).toBe('a36174fa41ac0000616e22626f6bf5');
    expect(hex(encodeCbor(0.1))).toBe('fb3fb999999999999a');
    expect(hex(encodeCbor(65536))).toBe('1a00010000');
    expect(hex(encodeCbor(-100000))).toBe('3a0001869f');
    expect(hex(encodeCbor(2n ** 64n - 1n))).toBe('1bffffffffffffffff');
    const v = decodeCbor(encodeCbor([1, 'two', new Uint8Array([3]), { four: [4.5, null] }, false]));
    expect(v.ok && v.value).toEqual([
      1,
      'two',
      new Uint8Array([3]),
      new Map<unknown, unknown>([['four', [4.5, null]]]),
      false,
    ]);
    expect(decodeCbor(unhex('f97e00')).ok).toBe(true); // half NaN
    const half = decodeCbor(unhex('f93c00'));
    expect(half.ok && half.value).toBe(1);
    expect(decodeCbor(unhex('62c328')).ok).toBe(false); // invalid UTF-8 text
  });

  it('limits nesting to 16', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 16; i++) deep = [deep];
    expect(cborWellFormed(encodeCbor(deep as never))).toBe(true);
    expect(() => encodeCbor([deep as never])).toThrow(TypeError);
  });
});

describe('test vectors', () => {
  it('file is consistent with the constants', () => {
    expect(vectors.version).toBe(1);
    expect(vectors.maxFrameLength).toBe(MAX_FRAME_LENGTH);
    expect(vectors.maxWireLength).toBe(MAX_WIRE_LENGTH);
    expect(MAX_WIRE_LENGTH).toBe(516);
    expect(MAX_PAYLOAD_LENGTH).toBe(506);
    const names = [...vectors.vectors, ...vectors.invalid].map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const required of [
      'ping-empty-payload',
      'data-many-zeros',
      'data-run-254',
      'data-run-255',
      'data-max-size',
      'data-seq-65535',
      'data-seq-wrap-0',
    ]) {
      expect(names).toContain(required);
    }
    const max = vectors.vectors.find((v) => v.name === 'data-max-size')!;
    expect([max.rawLength, max.encodedLength]).toEqual([512, 516]);
  });

  it.each(vectors.vectors.map((v) => [v.name, v] as const))('valid %s', (_n, v) => {
    const input = vectorInput(v);
    const raw = serializeFrame(input);
    expect(hex(raw)).toBe(v.rawHex);
    expect(raw.length).toBe(v.rawLength);
    expect(hex(raw.subarray(4, raw.length - 2))).toBe(v.payloadHex);
    expect(raw[0]).toBe(v.version);
    expect(raw[1]).toBe(v.typeCode);
    expect(raw.readUInt16BE(2)).toBe(v.seq);
    const wire = encodeFrame(input);
    expect(hex(wire)).toBe(v.encodedHex);
    expect(wire.length).toBe(v.encodedLength);
    const cobs = cobsDecode(unhex(v.encodedHex));
    expect(cobs.ok && hex(cobs.data)).toBe(v.rawHex);

    const res = decodeFrame(unhex(v.encodedHex));
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.frame.type).toBe(v.typeCode);
    expect(res.frame.seq).toBe(v.seq);
    if ('topic' in res.frame) {
      expect(res.frame.topic).toBe(v.topic);
      expect(hex(res.frame.body)).toBe(v.bodyHex);
    }
    if ('reason' in res.frame) expect(res.frame.reason).toBe(v.reason);
    if ('hello' in res.frame) expect(res.frame.hello).toEqual(v.hello);
    if (v.bodyFields) expect(hex(bodyFromFields(v.bodyFields))).toBe(v.bodyHex);

    const dec = new FrameDecoder();
    expect(dec.push(unhex(v.encodedHex))).toEqual([res]);
    expect(parseFrame(unhex(v.rawHex))).toEqual(res);
  });

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('invalid %s', (_n, v) => {
    const res = decodeFrame(unhex(v.encodedHex));
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.reason).toBe(v.error);
    expect(res.seq).toBe(v.seqHint);
    const dec = new FrameDecoder();
    const out = dec.push(unhex(v.encodedHex));
    expect(out.length).toBe(1);
    expect(out[0]!.ok === false && out[0]!.reason).toBe(v.error);
  });

  it('maps decode errors to NACK reasons as in spec §7', () => {
    expect(nackReasonFor('cobs')).toBeNull();
    expect(nackReasonFor('too-short')).toBeNull();
    expect(nackReasonFor('bad-crc')).toBe(NackReason.BadCrc);
    expect(nackReasonFor('oversize')).toBe(NackReason.Oversize);
    expect(nackReasonFor('bad-version')).toBe(NackReason.BadVersion);
    expect(nackReasonFor('unknown-type')).toBe(NackReason.UnknownType);
    expect(nackReasonFor('bad-topic')).toBe(NackReason.BadTopic);
    for (const r of ['bad-payload', 'bad-cbor', 'bad-hello'] as const)
      expect(nackReasonFor(r)).toBe(NackReason.Malformed);
  });
});

describe('encodeFrame argument checks', () => {
  it('throws on invalid fields instead of sending garbage', () => {
    const body = encodeCbor(1);
    expect(() => encodeFrame({ type: FrameType.Ping, seq: 65536 })).toThrow(RangeError);
    expect(() => encodeFrame({ type: FrameType.Ping, seq: -1 })).toThrow(RangeError);
    expect(() => encodeFrame({ type: FrameType.Data, seq: 1, topic: 'a/+', body })).toThrow(TypeError);
    expect(() => encodeFrame({ type: FrameType.Data, seq: 1, topic: 'a', body: unhex('0102') })).toThrow(
      TypeError,
    );
    expect(() =>
      encodeFrame({ type: FrameType.Data, seq: 1, topic: 'a', body: encodeCbor(new Uint8Array(503)) }),
    ).toThrow(RangeError);
    expect(() =>
      encodeFrame({ type: FrameType.Data, seq: 1, topic: 'a', body: encodeCbor(new Uint8Array(500)) }),
    ).not.toThrow();
    expect(() =>
      encodeFrame({ type: FrameType.Hello, seq: 1, hello: { deviceId: 'a b', firmware: '1' } }),
    ).toThrow(TypeError);
    expect(() => encodeFrame({ type: FrameType.Nack, seq: 1, reason: 256 })).toThrow(RangeError);
  });

  it('validates topic suffixes as in spec §5.2', () => {
    const ok = ['', 'a', 'a/b', 'température/°C', '😀', 'a b'];
    const bad = ['/', '/a', 'a/', 'a//b', '+', 'a/#', 'a\u0000'];
    for (const t of ok) expect(isValidTopicSuffix(Buffer.from(t))).toBe(true);
    for (const t of bad) expect(isValidTopicSuffix(Buffer.from(t))).toBe(false);
    // Agrees with the strict WHATWG decoder on random bytes.
    const strict = new TextDecoder('utf-8', { fatal: true });
    const r = prng(4);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(
        Array.from({ length: r.int(1, 6) }, () =>
          r.pick([0x61, 0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xa0, 0x90]),
        ),
      );
      let valid = true;
      try {
        strict.decode(b);
      } catch {
        valid = false;
      }
      expect(isValidTopicSuffix(b)).toBe(valid);
    }
  });
});

describe('FrameDecoder (streaming)', () => {
  const allWire = Buffer.concat(vectors.vectors.map((v) => unhex(v.encodedHex)));
  const allFrames = vectors.vectors.map((v) => expectedFrame(vectorInput(v)));

  it('decodes all vectors back to back, whatever the chunking', () => {
    const r = prng(5);
    for (const maxChunk of [1, 2, 7, 64, 1000]) {
      const dec = new FrameDecoder();
      const out = pushChunked(dec, allWire, r, maxChunk);
      expect(out.every((x) => x.ok)).toBe(true);
      expect(out.map((x) => x.ok && x.frame)).toEqual(allFrames);
      expect(dec.stats.frames).toBe(allFrames.length);
      expect(dec.stats.resyncs).toBe(0);
      expect(dec.pendingBytes).toBe(0);
    }
  });

  it('resynchronises at the next delimiter after garbage and a partial frame', () => {
    const a = encodeFrame({ type: FrameType.Ping, seq: 1 });
    const b = encodeFrame({ type: FrameType.Data, seq: 2, topic: 't', body: encodeCbor(5) });
    const dec = new FrameDecoder();
    // start-up mid-frame: tail of a frame, its delimiter, then good frames
    const out = dec.push(Buffer.concat([b.subarray(5), a, Buffer.from([0, 0]), b]));
    expect(out.length).toBe(3);
    expect(out[0]!.ok).toBe(false);
    expect(summary(out.slice(1))).toEqual([
      expectedFrame({ type: FrameType.Ping, seq: 1 }),
      expectedFrame({ type: FrameType.Data, seq: 2, topic: 't', body: encodeCbor(5) }),
    ]);
    expect(dec.stats).toMatchObject({ frames: 2, resyncs: 1, emptyFrames: 2 });
    // a truncated frame merges with the next one unless a 0x00 separates them (spec §2)
    const dec2 = new FrameDecoder();
    const merged = dec2.push(Buffer.concat([a.subarray(0, 4), b]));
    expect(merged.length).toBe(1);
    expect(merged[0]!.ok).toBe(false);
    expect(summary(dec2.push(Buffer.concat([a.subarray(0, 4), Buffer.from([0]), b])))[1]).toMatchObject({
      seq: 2,
    });
  });

  it('cuts oversize frames off without buffering them and reports them once', () => {
    const dec = new FrameDecoder();
    const good = encodeFrame({ type: FrameType.Pong, seq: 9 });
    const noise = Buffer.alloc(1 << 20, 0x5a);
    const t0 = performance.now();
    const out = [...dec.push(noise), ...dec.push(noise), ...dec.push(Buffer.from([0])), ...dec.push(good)];
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(summary(out)).toEqual([{ error: 'oversize' }, { type: FrameType.Pong, seq: 9 }]);
    expect(dec.stats).toMatchObject({ oversize: 1, resyncs: 1, droppedBytes: 2 << 20, frames: 1 });
    // exactly at the limit is fine, one byte more is not
    const max = vectors.vectors.find((v) => v.name === 'data-max-size')!;
    expect(dec.push(unhex(max.encodedHex))[0]!.ok).toBe(true);
    const over = vectors.invalid.find((v) => v.name === 'oversize-513')!;
    const res = dec.push(unhex(over.encodedHex));
    expect(res).toEqual([{ ok: false, reason: 'oversize', type: FrameType.Ping, seq: 0x0203 }]);
  });

  it('honours a smaller device receive limit', () => {
    const dec = new FrameDecoder({ maxFrameLength: 32 });
    const big = encodeFrame({
      type: FrameType.Command,
      seq: 1,
      topic: 'x',
      body: encodeCbor('y'.repeat(40)),
    });
    const small = encodeFrame({ type: FrameType.Command, seq: 2, topic: 'x', body: encodeCbor('y') });
    expect(
      summary(dec.push(Buffer.concat([big, small]))).map((x) => ('error' in x ? x.error : x.seq)),
    ).toEqual(['oversize', 2]);
    expect(() => new FrameDecoder({ maxFrameLength: 513 })).toThrow(RangeError);
  });

  it('fuzz: random byte streams behave exactly like split-and-decode and never throw', () => {
    const r = prng(6);
    let events = 0;
    for (let i = 0; i < 2000; i++) {
      const len = r.int(0, 1500);
      const stream = Buffer.concat([r.bytes(len, r.pick([0.002, 0.02, 0.2])), Buffer.from([0])]);
      const dec = new FrameDecoder();
      const out = pushChunked(dec, stream, r, 200);
      expect(summary(out)).toEqual(summary(referenceDecode(stream)));
      const s = dec.stats;
      expect(s.frames + s.resyncs + s.rejected).toBe(out.length);
      expect(s.bytes).toBe(stream.length);
      events += out.length;
    }
    expect(events).toBeGreaterThan(2000);
  });

  it('fuzz: corrupted frame streams never yield a bad frame and recover the intact ones', () => {
    const r = prng(7);
    let corruptedFrames = 0;
    let recovered = 0;
    let yieldedFromCorrupt = 0;
    for (let i = 0; i < 1500; i++) {
      const inputs = Array.from({ length: r.int(1, 6) }, () => randomFrame(r));
      const frames = inputs.map(expectedFrame);
      const wires = inputs.map((f) => Buffer.from(encodeFrame(f)));
      const victim = r.int(0, wires.length - 1);
      const w = wires[victim]!;
      const op = r.pick(['flip1', 'flip3', 'truncate', 'drop', 'insert', 'garbage'] as const);
      let delimiterLost = false;
      if (op === 'flip1' || op === 'flip3') {
        for (let k = op === 'flip1' ? 1 : 3; k > 0; k--) {
          const at = r.int(0, w.length - 1);
          if (at === w.length - 1) delimiterLost = true;
          w[at]! ^= 1 << r.int(0, 7);
        }
        wires[victim] = w;
      } else if (op === 'truncate') {
        wires[victim] = w.subarray(0, r.int(0, w.length - 1));
        delimiterLost = true;
      } else if (op === 'drop') {
        const at = r.int(0, w.length - 1);
        wires[victim] = Buffer.concat([w.subarray(0, at), w.subarray(at + 1)]);
        if (at === w.length - 1) delimiterLost = true;
      } else if (op === 'insert') {
        const at = r.int(0, w.length - 1);
        wires[victim] = Buffer.concat([w.subarray(0, at), r.bytes(r.int(1, 4), 0.1), w.subarray(at)]);
      } else {
        wires[victim] = Buffer.concat([r.bytes(r.int(1, 300), 0.01), w]);
      }
      corruptedFrames++;
      const stream = Buffer.concat(wires);
      const dec = new FrameDecoder();
      const out = pushChunked(dec, stream, r, 100);
      expect(summary(out)).toEqual(summary(referenceDecode(stream)));
      const ok = out.filter((x) => x.ok).map((x) => x.frame);
      // every yielded frame is a real one with a correct CRC
      for (const f of ok) {
        const raw = serializeFrame(f as FrameInput);
        expect(crcBitwise(raw)).toBe(0);
        const idx = frames.findIndex((g) => JSON.stringify(g) === JSON.stringify(f));
        expect(idx).toBeGreaterThanOrEqual(0);
        if (idx === victim) yieldedFromCorrupt++;
      }
      // every frame that was not touched (and whose predecessor kept its delimiter) comes through, in order
      const intact = frames.filter((_, j) => j !== victim && !(delimiterLost && j === victim + 1));
      const okJson = ok.map((f) => JSON.stringify(f));
      let k = 0;
      for (const f of intact) {
        k = okJson.indexOf(JSON.stringify(f), k);
        expect(k).toBeGreaterThanOrEqual(0);
        k++;
        recovered++;
      }
    }
    expect(corruptedFrames).toBe(1500);
    expect(recovered).toBeGreaterThan(2000);
    // 'insert'/'garbage' can leave the victim intact after a resync; a corrupted frame never passes the CRC
    expect(yieldedFromCorrupt).toBeGreaterThan(0);
  });

  it('fuzz: every single-bit flip of every vector frame is rejected or split', () => {
    let flips = 0;
    for (const v of vectors.vectors) {
      const wire = unhex(v.encodedHex);
      const original = decodeFrame(wire);
      for (let at = 0; at < wire.length - 1; at++) {
        for (let bit = 0; bit < 8; bit++) {
          const w = Buffer.from(wire);
          w[at]! ^= 1 << bit;
          for (const res of new FrameDecoder().push(w)) {
            expect(res.ok).toBe(false);
          }
          flips++;
        }
      }
      expect(original.ok).toBe(true);
    }
    expect(flips).toBeGreaterThan(10_000);
  });
});

describe('reliability rules (spec §6)', () => {
  it('sequence numbers wrap', () => {
    expect(nextSeq(0)).toBe(1);
    expect(nextSeq(65535)).toBe(0);
  });

  it('ack timeouts double and are capped', () => {
    expect([1, 2, 3, 4, 5].map((k) => ackTimeoutMs(k))).toEqual([500, 1000, 2000, 4000, 4000]);
  });

  it('NACK reasons map to sender actions', () => {
    expect(nackAction(NackReason.BadCrc)).toBe('retransmit');
    expect(nackAction(NackReason.Oversize)).toBe('retransmit');
    expect(nackAction(NackReason.Busy)).toBe('backoff');
    expect(nackAction(NackReason.NotHello)).toBe('hello');
    for (const r of [
      NackReason.Malformed,
      NackReason.BadVersion,
      NackReason.UnknownType,
      NackReason.BadTopic,
      0xee,
    ])
      expect(nackAction(r)).toBe('drop');
  });

  it('duplicate filter: window of one, across wrap-around, with in-progress and abort', () => {
    const d = new DuplicateFilter();
    expect(d.classify(0)).toBe('new');
    d.reset(65534); // HELLO with seq 65534
    expect(d.classify(65534)).toBe('duplicate');
    expect(d.classify(65535)).toBe('new');
    d.begin(65535);
    expect(d.classify(65535)).toBe('in-progress');
    d.commit(65535);
    expect(d.classify(65535)).toBe('duplicate');
    expect(d.classify(0)).toBe('new');
    d.begin(0);
    d.abort(0); // NACK busy: the retransmission is new again
    expect(d.classify(0)).toBe('new');
    d.begin(0);
    d.commit(0);
    expect([d.lastSeq, d.pendingSeq]).toEqual([0, null]);
    expect(d.classify(65535)).toBe('new');
  });

  it('a retransmission has identical bytes', () => {
    const f: FrameInput = { type: FrameType.Data, seq: 77, topic: 'x', body: encodeCbor({ a: 1 }) };
    expect(encodeFrame(f).equals(encodeFrame(f))).toBe(true);
    expect(
      encodeRawFrame({ version: 1, type: 2, seq: 77, payload: serializeFrame(f).subarray(4, -2) }).equals(
        encodeFrame(f),
      ),
    ).toBe(true);
  });
});
