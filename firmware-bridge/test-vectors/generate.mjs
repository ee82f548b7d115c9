#!/usr/bin/env node
// Regenerates vectors.json from the TypeScript codec (run `npm run build` first):
//   node firmware-bridge/test-vectors/generate.mjs
// The vectors are checked independently by the C reference
// (firmware/test_proto.c) and by test/unit/firmware-bridge/protocol.test.ts;
// the CRC and COBS primitives are additionally pinned to published check
// values there. Spec: firmware-bridge/PROTOCOL.md.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const p = await import(join(here, '../../dist/firmware-bridge/src/protocol/index.js'));
const { FrameType: T, NackReason: R } = p;
const hex = (b) => Buffer.from(b).toString('hex');

// body: list of [key, kind, value] so the C test can rebuild it with its CBOR writer
const cborFromFields = (fields) => p.encodeCbor(Object.fromEntries(fields.map(([k, , v]) => [k, v])));

const valid = [];
function add(name, description, input, extra = {}) {
  const raw = p.serializeFrame(input);
  const encoded = p.encodeFrame(input);
  const res = p.decodeFrame(encoded);
  if (!res.ok) throw new Error(`${name}: does not decode: ${res.reason}`);
  const v = {
    name,
    description,
    version: p.PROTOCOL_VERSION,
    type: p.frameTypeName(input.type),
    typeCode: input.type,
    seq: input.seq,
  };
  if (input.type === T.Data || input.type === T.Command) {
    v.topic = input.topic;
    v.bodyHex = hex(input.body);
  }
  if (input.type === T.Nack) v.reason = input.reason;
  if (input.type === T.Hello) v.hello = res.frame.hello;
  Object.assign(v, extra);
  v.payloadHex = hex(raw.subarray(4, raw.length - 2));
  v.crcHex = hex(raw.subarray(raw.length - 2));
  v.rawHex = hex(raw);
  v.encodedHex = hex(encoded);
  v.rawLength = raw.length;
  v.encodedLength = encoded.length;
  valid.push(v);
}

// A DATA frame whose raw bytes contain no zero at all and are exactly `total` long.
function zeroFreeData(total, topic = 'abc') {
  for (let seq = 0x0101; seq < 0xffff; seq++) {
    if ((seq & 0xff) === 0 || seq >> 8 === 0) continue;
    const tl = Buffer.byteLength(topic);
    const fixed = 4 + 1 + tl + 2; // header, topic length, topic, crc
    let n = total - fixed - 2;
    let head = [0x58, n];
    if (n > 255) {
      n = total - fixed - 3;
      head = [0x59, n >> 8, n & 0xff];
    }
    const content = Buffer.alloc(n).map((_, i) => ((i * 37) % 255) + 1);
    const body = Buffer.concat([Buffer.from(head), content]);
    const raw = p.serializeFrame({ type: T.Data, seq, topic, body });
    if (raw.length !== total) throw new Error('length mismatch');
    if (!raw.includes(0)) return { type: T.Data, seq, topic, body };
  }
  throw new Error('no zero-free frame found');
}

add('ping-empty-payload', 'PING with empty payload, seq 0 (header zeros become COBS codes)', {
  type: T.Ping,
  seq: 0,
});
add('pong-echo', 'PONG echoing PING seq 0x0102', { type: T.Pong, seq: 0x0102 });
add('ack', 'ACK of seq 0x1234: seq in the header, empty payload', { type: T.Ack, seq: 0x1234 });
add('nack-busy', 'NACK busy for seq 7', { type: T.Nack, seq: 7, reason: R.Busy });
add('nack-bad-crc', 'NACK bad-crc for seq 0x00ff', { type: T.Nack, seq: 0x00ff, reason: R.BadCrc });
add('nack-unknown-reason', 'NACK with an unassigned reason code: still a valid frame', {
  type: T.Nack,
  seq: 9,
  reason: 0xee,
});
add('hello-minimal', 'HELLO with only "id" and "fw"', {
  type: T.Hello,
  seq: 0,
  hello: { deviceId: 'dev-1', firmware: '1.0.0' },
});
add('hello-full', 'HELLO with capabilities and a 128-byte receive limit', {
  type: T.Hello,
  seq: 0x4000,
  hello: {
    deviceId: 'greenhouse.north-07',
    firmware: '2.3.1+avr',
    capabilities: ['cmd', 'ping'],
    maxFrame: 128,
  },
});
{
  const fields = [
    ['t', 'float', 21.5],
    ['n', 'int', -3],
    ['ok', 'bool', true],
  ];
  add(
    'data-worked-example',
    'The worked example of PROTOCOL.md §9: DATA seq 256 to "env" with {"t":21.5,"n":-3,"ok":true}',
    { type: T.Data, seq: 256, topic: 'env', body: cborFromFields(fields) },
    { bodyFields: fields },
  );
}
{
  const fields = [
    ['temp_c', 'float', -12.25],
    ['rh', 'int', 65535],
    ['big', 'int', -100000],
    ['name', 'text', 'bed 3'],
    ['door', 'bool', false],
  ];
  add(
    'data-cbor-writer-map',
    'DATA whose body the C CBOR writer must reproduce (ints, float, text, bool)',
    { type: T.Data, seq: 42, topic: 'sensors/bed3', body: cborFromFields(fields) },
    { bodyFields: fields },
  );
}
add('data-empty-topic', 'DATA to the device base topic (suffix length 0), body CBOR null', {
  type: T.Data,
  seq: 1,
  topic: '',
  body: Buffer.from([0xf6]),
});
add('data-many-zeros', 'DATA whose body is a byte string of 40 zero bytes: one COBS code per zero', {
  type: T.Data,
  seq: 0,
  topic: 'z',
  body: Buffer.concat([Buffer.from([0x58, 40]), Buffer.alloc(40)]),
});
add('data-utf8-topic', 'DATA to a non-ASCII topic suffix', {
  type: T.Data,
  seq: 3,
  topic: 'température/°C',
  body: p.encodeCbor(19.75),
});
add('data-indefinite-cbor', 'DATA with indefinite-length array/text in the body (well-formed)', {
  type: T.Data,
  seq: 4,
  topic: 'log',
  body: Buffer.from([0x9f, 0x01, 0x7f, 0x62, 0x68, 0x69, 0x61, 0x21, 0xff, 0xff]),
});
add('data-depth-16', 'DATA with 16 nested arrays: the deepest nesting allowed', {
  type: T.Data,
  seq: 5,
  topic: 'deep',
  body: Buffer.concat([Buffer.alloc(15, 0x81), Buffer.from([0x80])]),
});
add('data-run-253', 'Raw frame of 253 non-zero bytes: one COBS block, code 0xFE', zeroFreeData(253));
add(
  'data-run-254',
  'Raw frame of exactly 254 non-zero bytes: code 0xFF, no trailing code',
  zeroFreeData(254),
);
add('data-run-255', 'Raw frame of 255 non-zero bytes: 0xFF block then a 0x02 block', zeroFreeData(255));
add('data-max-size', 'Largest frame: 512 raw bytes, no zeros, 515 COBS bytes + delimiter', zeroFreeData(512));
{
  // a 254-byte run followed by a zero inside the frame: the block after 0xFF starts a new code
  const body = Buffer.concat([Buffer.from([0x58, 0xfe]), Buffer.alloc(0xfe, 0x11)]);
  body[2 + 246] = 0; // raw index 254
  add('data-run-254-then-zero', 'A 254-byte zero-free run immediately followed by a zero', {
    type: T.Data,
    seq: 0x0a0b,
    topic: 'r',
    body,
  });
}
add('data-seq-65535', 'DATA with the largest seq', {
  type: T.Data,
  seq: 65535,
  topic: 'w',
  body: Buffer.from([0x01]),
});
add('data-seq-wrap-0', 'The DATA after seq 65535: seq wraps to 0', {
  type: T.Data,
  seq: 0,
  topic: 'w',
  body: Buffer.from([0x02]),
});
add('command-led', 'COMMAND led/set {"on":true}', {
  type: T.Command,
  seq: 0x8001,
  topic: 'led/set',
  body: p.encodeCbor({ on: true }),
});
add('command-empty-topic-int', 'COMMAND with empty suffix and an integer body', {
  type: T.Command,
  seq: 0xfffe,
  topic: '',
  body: p.encodeCbor(1000),
});

// ------------------------------------------------------------ invalid inputs
const invalid = [];
function bad(name, description, encoded, error, extra = {}) {
  const res = p.decodeFrame(encoded);
  if (res.ok) throw new Error(`${name}: unexpectedly decodes`);
  if (res.reason !== error) throw new Error(`${name}: expected ${error}, got ${res.reason}`);
  const v = { name, description, encodedHex: hex(encoded), error };
  if (res.seq !== undefined) v.seqHint = res.seq;
  invalid.push(Object.assign(v, extra));
}
const rawWire = (version, type, seq, payload) =>
  p.encodeRawFrame({ version, type, seq, payload: Buffer.from(payload) });
const dataPayload = (topicBytes, body) => Buffer.concat([Buffer.from([topicBytes.length]), topicBytes, body]);
const dataWire = (topicBytes, body, seq = 0x0102) => rawWire(1, T.Data, seq, dataPayload(topicBytes, body));
const flipRaw = (input, index, mask) => {
  const raw = p.serializeFrame(input);
  raw[index] ^= mask;
  return p.cobsEncode(raw, true);
};
const worked = { type: T.Data, seq: 256, topic: 'env', body: cborFromFields([['t', 'float', 21.5]]) };

bad(
  'bad-crc-trailer',
  'Worked-example-like frame with the last CRC bit flipped',
  flipRaw(worked, -1 + p.serializeFrame(worked).length, 0x01),
  'bad-crc',
);
bad('bad-crc-payload-bit', 'One payload bit flipped', flipRaw(worked, 9, 0x40), 'bad-crc');
bad(
  'bad-crc-seq-bit',
  'One seq bit flipped: NACK carries the damaged seq as a hint',
  flipRaw(worked, 3, 0x04),
  'bad-crc',
);
bad('bad-version-2', 'Version 2 with a valid CRC', rawWire(2, T.Ping, 5, []), 'bad-version');
bad('bad-version-0', 'Version 0 with a valid CRC', rawWire(0, T.Ping, 5, []), 'bad-version');
bad('unknown-type-0', 'Type 0x00', rawWire(1, 0x00, 6, []), 'unknown-type');
bad('unknown-type-8', 'Type 0x08', rawWire(1, 0x08, 6, []), 'unknown-type');
bad(
  'too-short-5',
  'Five decoded bytes: no room for header and CRC',
  p.cobsEncode(Buffer.from([1, 6, 0, 1, 0xaa]), true),
  'too-short',
);
bad('too-short-empty', 'COBS "01": an empty decoded frame', Buffer.from([0x01, 0x00]), 'too-short');
bad(
  'cobs-truncated',
  'Code byte promises 5 bytes, only 2 follow before the delimiter',
  Buffer.from([0x05, 0x11, 0x22, 0x00]),
  'cobs',
);
{
  const payload = Buffer.alloc(p.MAX_PAYLOAD_LENGTH + 1, 0x33);
  bad(
    'oversize-513',
    'Decoded frame of 513 bytes (valid CRC): one byte over the limit',
    rawWire(1, T.Ping, 0x0203, payload),
    'oversize',
  );
}
bad('ack-with-payload', 'ACK payload must be empty', rawWire(1, T.Ack, 1, [0x00, 0x01]), 'bad-payload');
bad('ping-with-payload', 'PING payload must be empty', rawWire(1, T.Ping, 1, [0x01]), 'bad-payload');
bad('nack-without-reason', 'NACK payload must be exactly 1 byte', rawWire(1, T.Nack, 1, []), 'bad-payload');
bad('nack-two-bytes', 'NACK payload must be exactly 1 byte', rawWire(1, T.Nack, 1, [1, 2]), 'bad-payload');
bad('data-empty-payload', 'DATA without a topic length byte', rawWire(1, T.Data, 1, []), 'bad-payload');
bad(
  'data-topic-overrun',
  'Topic length 10 but only 3 bytes follow',
  rawWire(1, T.Data, 1, [10, 0x61, 0x62, 0x63]),
  'bad-payload',
);
bad(
  'command-topic-overrun',
  'COMMAND topic length past the payload',
  rawWire(1, T.Command, 1, [2, 0x61]),
  'bad-payload',
);
const tb = (s) => Buffer.from(s, 'latin1');
bad(
  'data-topic-plus',
  'Topic suffix containing the MQTT wildcard +',
  dataWire(tb('a/+/b'), Buffer.from([0xf6])),
  'bad-topic',
);
bad('data-topic-hash', 'Topic suffix containing #', dataWire(tb('#'), Buffer.from([0xf6])), 'bad-topic');
bad(
  'data-topic-leading-slash',
  'Topic suffix starting with /',
  dataWire(tb('/a'), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-trailing-slash',
  'Topic suffix ending with /',
  dataWire(tb('a/'), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-empty-level',
  'Topic suffix with an empty level',
  dataWire(tb('a//b'), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-nul',
  'Topic suffix containing U+0000',
  dataWire(Buffer.from([0x61, 0x00, 0x62]), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-overlong-utf8',
  'Overlong UTF-8 (C0 AF)',
  dataWire(Buffer.from([0xc0, 0xaf]), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-surrogate',
  'UTF-8 encoded surrogate (ED A0 80)',
  dataWire(Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-truncated-utf8',
  'UTF-8 sequence cut by the end of the suffix',
  dataWire(Buffer.from([0x61, 0xe2, 0x82]), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-topic-above-10ffff',
  'UTF-8 F4 90 80 80 (> U+10FFFF)',
  dataWire(Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xf6])),
  'bad-topic',
);
bad(
  'data-empty-body',
  'DATA body must be one CBOR item, not nothing',
  dataWire(tb('a'), Buffer.alloc(0)),
  'bad-cbor',
);
bad(
  'data-trailing-bytes',
  'Two CBOR items in the body',
  dataWire(tb('a'), Buffer.from([0x01, 0x02])),
  'bad-cbor',
);
bad(
  'data-cbor-reserved-ai',
  'Reserved additional information 28',
  dataWire(tb('a'), Buffer.from([0x1c])),
  'bad-cbor',
);
bad(
  'data-cbor-truncated-map',
  'Map of 2 pairs with 1 pair present',
  dataWire(tb('a'), Buffer.from([0xa2, 0x01, 0x02])),
  'bad-cbor',
);
bad(
  'data-cbor-truncated-string',
  'Text string of 5 bytes with 2 present',
  dataWire(tb('a'), Buffer.from([0x65, 0x61, 0x62])),
  'bad-cbor',
);
bad(
  'data-cbor-depth-17',
  '17 nested arrays: one deeper than allowed',
  dataWire(tb('a'), Buffer.concat([Buffer.alloc(16, 0x81), Buffer.from([0x80])])),
  'bad-cbor',
);
bad(
  'data-cbor-bad-chunk',
  'Indefinite text string with a byte-string chunk',
  dataWire(tb('a'), Buffer.from([0x7f, 0x41, 0x61, 0xff])),
  'bad-cbor',
);
bad(
  'data-cbor-lone-break',
  'A break byte outside an indefinite container',
  dataWire(tb('a'), Buffer.from([0xff])),
  'bad-cbor',
);
bad(
  'data-cbor-indefinite-int',
  'Major type 0 with ai 31',
  dataWire(tb('a'), Buffer.from([0x1f])),
  'bad-cbor',
);
bad(
  'data-cbor-bad-simple',
  'Two-byte simple value below 32',
  dataWire(tb('a'), Buffer.from([0xf8, 0x10])),
  'bad-cbor',
);
bad(
  'data-cbor-unterminated',
  'Indefinite array without break',
  dataWire(tb('a'), Buffer.from([0x9f, 0x01])),
  'bad-cbor',
);
bad('hello-not-cbor', 'HELLO payload that is not CBOR', rawWire(1, T.Hello, 0, [0xa1, 0x61]), 'bad-cbor');
bad(
  'hello-not-a-map',
  'HELLO payload that is an array (TypeScript-level check)',
  rawWire(1, T.Hello, 0, [0x80]),
  'bad-hello',
  { layer: 'hello' },
);
bad(
  'hello-missing-id',
  'HELLO without "id" (TypeScript-level check)',
  rawWire(1, T.Hello, 0, p.encodeCbor({ fw: '1' })),
  'bad-hello',
  { layer: 'hello' },
);
bad(
  'hello-bad-id',
  'HELLO with an id that is not MQTT-safe (TypeScript-level check)',
  rawWire(1, T.Hello, 0, p.encodeCbor({ id: 'a/b', fw: '1' })),
  'bad-hello',
  { layer: 'hello' },
);

const doc = {
  protocol: 'tidegate-serial',
  version: p.PROTOCOL_VERSION,
  spec: 'firmware-bridge/PROTOCOL.md',
  crc: {
    name: 'CRC-16/CCITT-FALSE',
    poly: '0x1021',
    init: '0xffff',
    refin: false,
    refout: false,
    xorout: '0x0000',
    check: '0x29b1',
  },
  maxFrameLength: p.MAX_FRAME_LENGTH,
  maxWireLength: p.MAX_WIRE_LENGTH,
  notes: [
    'rawHex = version | type | seq (BE) | payload | crc (BE); encodedHex = COBS(rawHex) followed by the 0x00 delimiter.',
    'bodyFields (when present) lists [key, kind, value] so a CBOR writer can rebuild bodyHex: a map in that order; kinds int, float (float32), text, bool.',
    'invalid[].error is the decodeFrame() reason; seqHint is the seq read from the damaged frame. layer "hello" marks checks the C reference does not make.',
  ],
  vectors: valid,
  invalid,
};
writeFileSync(join(here, 'vectors.json'), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors`);
