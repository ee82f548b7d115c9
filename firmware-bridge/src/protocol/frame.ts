// Frame layout, frame types and payload encodings of the Tidegate serial
// protocol. Spec: firmware-bridge/PROTOCOL.md §3 (frame layout), §4 (CRC),
// §5 (frame types and payloads), §8 (limits).
//
//   decoded frame = version(u8 = 1) | type(u8) | seq(u16 BE) | payload | crc16(u16 BE)
//   wire          = COBS(decoded frame) | 0x00
//
// decodeFrame()/parseFrame() never throw: every malformed input yields
// { ok: false, reason }. encodeFrame()/serializeFrame() throw RangeError or
// TypeError on invalid arguments (a programming error on the sending side).

import { cborWellFormed, decodeCbor } from './cbor.js';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';
import { crc16 } from './crc.js';

/** §3: the only protocol version defined by this spec. */
export const PROTOCOL_VERSION = 1;
/** §3: version + type + seq. */
export const HEADER_LENGTH = 4;
/** §4: CRC-16 trailer. */
export const CRC_LENGTH = 2;
/** §3: smallest valid decoded frame (empty payload). */
export const MIN_FRAME_LENGTH = HEADER_LENGTH + CRC_LENGTH;
/** §8: largest decoded frame (header + payload + CRC), before COBS. */
export const MAX_FRAME_LENGTH = 512;
/** §8: largest payload. */
export const MAX_PAYLOAD_LENGTH = MAX_FRAME_LENGTH - MIN_FRAME_LENGTH;
/** §8: largest frame on the wire: COBS overhead plus the 0x00 delimiter. */
export const MAX_WIRE_LENGTH = cobsMaxEncodedLength(MAX_FRAME_LENGTH) + 1;
/** §5.1: default for the HELLO "mfs" key. */
export const DEFAULT_DEVICE_MAX_FRAME = MAX_FRAME_LENGTH;
/** §5.1: smallest receive buffer a device may announce with "mfs". */
export const MIN_DEVICE_MAX_FRAME = 32;

/** §5: frame types. */
export enum FrameType {
  Hello = 0x01,
  Data = 0x02,
  Ack = 0x03,
  Nack = 0x04,
  Command = 0x05,
  Ping = 0x06,
  Pong = 0x07,
}

/** §5.4 / §7: NACK reason codes (payload byte of a NACK frame). */
export enum NackReason {
  BadCrc = 0x01,
  Oversize = 0x02,
  Malformed = 0x03,
  BadVersion = 0x04,
  UnknownType = 0x05,
  NotHello = 0x06,
  Busy = 0x07,
  BadTopic = 0x08,
  Unsupported = 0x09,
}

const TYPE_NAMES: Record<FrameType, string> = {
  [FrameType.Hello]: 'HELLO',
  [FrameType.Data]: 'DATA',
  [FrameType.Ack]: 'ACK',
  [FrameType.Nack]: 'NACK',
  [FrameType.Command]: 'COMMAND',
  [FrameType.Ping]: 'PING',
  [FrameType.Pong]: 'PONG',
};

const NACK_NAMES: Record<NackReason, string> = {
  [NackReason.BadCrc]: 'bad-crc',
  [NackReason.Oversize]: 'oversize',
  [NackReason.Malformed]: 'malformed',
  [NackReason.BadVersion]: 'bad-version',
  [NackReason.UnknownType]: 'unknown-type',
  [NackReason.NotHello]: 'not-hello',
  [NackReason.Busy]: 'busy',
  [NackReason.BadTopic]: 'bad-topic',
  [NackReason.Unsupported]: 'unsupported',
};

export function isFrameType(t: number): t is FrameType {
  return Object.hasOwn(TYPE_NAMES, t);
}

/** 'HELLO', 'DATA', ... or 'TYPE_0xNN' for unknown codes. */
export function frameTypeName(t: number): string {
  return isFrameType(t) ? TYPE_NAMES[t] : `TYPE_0x${t.toString(16).padStart(2, '0')}`;
}

/** Inverse of frameTypeName() for the known types. */
export function frameTypeFromName(name: string): FrameType | undefined {
  for (const [code, n] of Object.entries(TYPE_NAMES)) if (n === name) return Number(code) as FrameType;
  return undefined;
}

/** 'bad-crc', 'busy', ... or 'reason-0xNN' for unknown codes. */
export function nackReasonName(r: number): string {
  return Object.hasOwn(NACK_NAMES, r)
    ? NACK_NAMES[r as NackReason]
    : `reason-0x${r.toString(16).padStart(2, '0')}`;
}

/** §5.1: parsed HELLO payload. */
export interface HelloInfo {
  /** "id": MQTT-safe device id, 1..64 of [A-Za-z0-9._-]. */
  deviceId: string;
  /** "fw": firmware version string, 1..64 UTF-8 bytes. */
  firmware: string;
  /** "caps": capability names, e.g. ["cmd"]. Empty when absent. */
  capabilities: string[];
  /** "mfs": largest decoded frame the device can receive (32..512, default 512). */
  maxFrame: number;
}

export interface HelloFrame {
  type: FrameType.Hello;
  seq: number;
  hello: HelloInfo;
}
/** §5.2: uplink measurement. `body` is exactly one CBOR data item (raw bytes). */
export interface DataFrame {
  type: FrameType.Data;
  seq: number;
  topic: string;
  body: Buffer;
}
/** §5.3: acknowledges the frame whose seq is `seq`. */
export interface AckFrame {
  type: FrameType.Ack;
  seq: number;
}
/** §5.4: rejects the frame whose seq is `seq`; `reason` is a NackReason (unknown codes are passed through). */
export interface NackFrame {
  type: FrameType.Nack;
  seq: number;
  reason: number;
}
/** §5.5: downlink command, same payload layout as DATA. */
export interface CommandFrame {
  type: FrameType.Command;
  seq: number;
  topic: string;
  body: Buffer;
}
export interface PingFrame {
  type: FrameType.Ping;
  seq: number;
}
/** §5.6: `seq` echoes the PING's seq. */
export interface PongFrame {
  type: FrameType.Pong;
  seq: number;
}

export type Frame = HelloFrame | DataFrame | AckFrame | NackFrame | CommandFrame | PingFrame | PongFrame;

/** What encodeFrame() accepts: like Frame, with optional HELLO fields and any Uint8Array body. */
export type FrameInput =
  | {
      type: FrameType.Hello;
      seq: number;
      hello: { deviceId: string; firmware: string; capabilities?: readonly string[]; maxFrame?: number };
    }
  | { type: FrameType.Data | FrameType.Command; seq: number; topic: string; body: Uint8Array }
  | { type: FrameType.Nack; seq: number; reason: number }
  | { type: FrameType.Ack | FrameType.Ping | FrameType.Pong; seq: number };

/** A frame at the byte level, without payload interpretation. */
export interface RawFrame {
  version: number;
  type: number;
  seq: number;
  payload: Uint8Array;
}

/**
 * Why a frame was rejected (§7). Framing-level: cobs, too-short, oversize,
 * bad-crc. Content-level (CRC was valid): the rest.
 */
export type DecodeErrorReason =
  | 'cobs'
  | 'too-short'
  | 'oversize'
  | 'bad-crc'
  | 'bad-version'
  | 'unknown-type'
  | 'bad-payload'
  | 'bad-topic'
  | 'bad-cbor'
  | 'bad-hello';

export interface DecodeError {
  ok: false;
  reason: DecodeErrorReason;
  /** seq from the header when at least 4 bytes were decoded. Untrusted unless the CRC was valid. */
  seq?: number;
  /** type byte from the header when available. Untrusted unless the CRC was valid. */
  type?: number;
  detail?: string;
}

export type DecodeResult = { ok: true; frame: Frame } | DecodeError;

/** §7: the NACK reason the bridge answers a decode error with, or null when it stays silent. */
export function nackReasonFor(reason: DecodeErrorReason): NackReason | null {
  switch (reason) {
    case 'cobs':
    case 'too-short':
      return null;
    case 'oversize':
      return NackReason.Oversize;
    case 'bad-crc':
      return NackReason.BadCrc;
    case 'bad-version':
      return NackReason.BadVersion;
    case 'unknown-type':
      return NackReason.UnknownType;
    case 'bad-topic':
      return NackReason.BadTopic;
    default:
      return NackReason.Malformed;
  }
}

/** True for framing-level errors after which the decoder had to resynchronise. */
export function isFramingError(reason: DecodeErrorReason): boolean {
  return reason === 'cobs' || reason === 'too-short' || reason === 'oversize' || reason === 'bad-crc';
}

// ---------------------------------------------------------------- validation

/**
 * §5.2: a topic suffix is valid UTF-8 (no overlong forms, no surrogates),
 * contains no U+0000, '+' or '#', does not start or end with '/' and has no
 * empty level ('//'). The empty suffix is valid. Mirrors tg_topic_valid().
 */
export function isValidTopicSuffix(b: Uint8Array, start = 0, end = b.length): boolean {
  if (end === start) return true;
  if (b[start] === 0x2f || b[end - 1] === 0x2f) return false;
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c === 0x00 || c === 0x2b || c === 0x23) return false;
      if (c === 0x2f && i + 1 < end && b[i + 1] === 0x2f) return false;
      i++;
      continue;
    }
    let n: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= end) return false;
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

function checkSeq(seq: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff)
    throw new RangeError(`seq must be 0..65535, got ${seq}`);
}

function helloError(detail: string): DecodeError {
  return { ok: false, reason: 'bad-hello', detail };
}

/** §5.1: parses and validates a HELLO payload. */
export function parseHelloPayload(payload: Uint8Array): { ok: true; hello: HelloInfo } | DecodeError {
  const r = decodeCbor(payload);
  if (!r.ok)
    return { ok: false, reason: 'bad-cbor', detail: 'HELLO payload is not one well-formed CBOR item' };
  const m = r.value;
  if (!(m instanceof Map)) return helloError('HELLO payload is not a CBOR map');
  const id = m.get('id');
  if (typeof id !== 'string' || !ID_RE.test(id)) return helloError('"id" must be 1..64 of [A-Za-z0-9._-]');
  const fw = m.get('fw');
  if (typeof fw !== 'string' || fw.length === 0 || utf8enc.encode(fw).length > 64)
    return helloError('"fw" must be a text string of 1..64 bytes');
  const capabilities: string[] = [];
  if (m.has('caps')) {
    const caps = m.get('caps');
    if (!Array.isArray(caps)) return helloError('"caps" must be an array of text strings');
    for (const c of caps) {
      if (typeof c !== 'string' || c.length === 0 || utf8enc.encode(c).length > 32)
        return helloError('"caps" entries must be text strings of 1..32 bytes');
      capabilities.push(c);
    }
  }
  let maxFrame = DEFAULT_DEVICE_MAX_FRAME;
  if (m.has('mfs')) {
    const mfs = m.get('mfs');
    if (
      typeof mfs !== 'number' ||
      !Number.isInteger(mfs) ||
      mfs < MIN_DEVICE_MAX_FRAME ||
      mfs > MAX_FRAME_LENGTH
    )
      return helloError(`"mfs" must be an integer ${MIN_DEVICE_MAX_FRAME}..${MAX_FRAME_LENGTH}`);
    maxFrame = mfs;
  }
  return { ok: true, hello: { deviceId: id, firmware: fw, capabilities, maxFrame } };
}

/** §5.1: deterministic HELLO payload: map of "id", "fw", then "caps" if non-empty, then "mfs" if not 512. */
export function encodeHelloPayload(h: {
  deviceId: string;
  firmware: string;
  capabilities?: readonly string[];
  maxFrame?: number;
}): Buffer {
  // Hand-rolled so the key order is fixed and identical to the C writer.
  const parts: Buffer[] = [];
  const text = (s: string) => {
    const u = Buffer.from(s, 'utf8');
    parts.push(cborHead(3, u.length), u);
  };
  const caps = h.capabilities ?? [];
  const mfs = h.maxFrame ?? DEFAULT_DEVICE_MAX_FRAME;
  const n = 2 + (caps.length > 0 ? 1 : 0) + (mfs !== DEFAULT_DEVICE_MAX_FRAME ? 1 : 0);
  parts.push(cborHead(5, n));
  text('id');
  text(h.deviceId);
  text('fw');
  text(h.firmware);
  if (caps.length > 0) {
    text('caps');
    parts.push(cborHead(4, caps.length));
    for (const c of caps) text(c);
  }
  if (mfs !== DEFAULT_DEVICE_MAX_FRAME) {
    text('mfs');
    parts.push(cborHead(0, mfs));
  }
  const payload = Buffer.concat(parts);
  const check = parseHelloPayload(payload);
  if (!check.ok) throw new TypeError(`invalid HELLO: ${check.detail}`);
  return payload;
}

function cborHead(major: number, arg: number): Buffer {
  const m = major << 5;
  if (arg < 24) return Buffer.from([m | arg]);
  if (arg < 0x100) return Buffer.from([m | 24, arg]);
  if (arg < 0x10000) return Buffer.from([m | 25, arg >> 8, arg & 0xff]);
  return Buffer.from([m | 26, arg >>> 24, (arg >>> 16) & 0xff, (arg >>> 8) & 0xff, arg & 0xff]);
}

/** §5.2: DATA/COMMAND payload = u8 suffix length | suffix (UTF-8) | CBOR body. */
export function encodeTopicPayload(topic: string, body: Uint8Array): Buffer {
  const t = Buffer.from(topic, 'utf8');
  if (t.length > 255) throw new RangeError('topic suffix longer than 255 bytes');
  if (!isValidTopicSuffix(t)) throw new TypeError(`invalid topic suffix ${JSON.stringify(topic)}`);
  if (!cborWellFormed(body)) throw new TypeError('body is not exactly one well-formed CBOR item');
  const out = Buffer.allocUnsafe(1 + t.length + body.length);
  out[0] = t.length;
  t.copy(out, 1);
  out.set(body, 1 + t.length);
  return out;
}

/** The payload bytes of a frame (what goes between seq and CRC). */
export function framePayload(frame: FrameInput): Buffer {
  switch (frame.type) {
    case FrameType.Hello:
      return encodeHelloPayload(frame.hello);
    case FrameType.Data:
    case FrameType.Command:
      return encodeTopicPayload(frame.topic, frame.body);
    case FrameType.Nack:
      if (!Number.isInteger(frame.reason) || frame.reason < 0 || frame.reason > 0xff)
        throw new RangeError(`NACK reason must be a u8, got ${frame.reason}`);
      return Buffer.from([frame.reason]);
    case FrameType.Ack:
    case FrameType.Ping:
    case FrameType.Pong:
      return Buffer.alloc(0);
    default:
      throw new TypeError(`unknown frame type ${(frame as { type: unknown }).type}`);
  }
}

// ---------------------------------------------------------------- encoding

/** Decoded (pre-COBS) bytes of a raw frame, CRC appended. No payload validation. */
export function serializeRawFrame(raw: RawFrame): Buffer {
  checkSeq(raw.seq);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + raw.payload.length + CRC_LENGTH);
  out[0] = raw.version & 0xff;
  out[1] = raw.type & 0xff;
  out.writeUInt16BE(raw.seq, 2);
  out.set(raw.payload, HEADER_LENGTH);
  out.writeUInt16BE(crc16(out, 0, out.length - CRC_LENGTH), out.length - CRC_LENGTH);
  return out;
}

/** Wire bytes (COBS + 0x00) of a raw frame. No validation beyond seq range; use for tests and tools. */
export function encodeRawFrame(raw: RawFrame): Buffer {
  return cobsEncode(serializeRawFrame(raw), true);
}

/** Decoded (pre-COBS) bytes of a frame, CRC included. Throws on invalid fields or oversize. */
export function serializeFrame(frame: FrameInput): Buffer {
  checkSeq(frame.seq);
  const payload = framePayload(frame);
  if (payload.length > MAX_PAYLOAD_LENGTH)
    throw new RangeError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_LENGTH}`);
  return serializeRawFrame({ version: PROTOCOL_VERSION, type: frame.type, seq: frame.seq, payload });
}

/** §2/§3: wire bytes of a frame: COBS(serializeFrame(frame)) followed by the 0x00 delimiter. */
export function encodeFrame(frame: FrameInput): Buffer {
  return cobsEncode(serializeFrame(frame), true);
}

// ---------------------------------------------------------------- decoding

/**
 * §3-§5: validates decoded (pre-COBS) frame bytes. Check order: length
 * (too-short, oversize), CRC, version, type, payload. Never throws.
 */
export function parseFrame(b: Uint8Array, maxLength = MAX_FRAME_LENGTH): DecodeResult {
  const hint = b.length >= HEADER_LENGTH ? { type: b[1]!, seq: (b[2]! << 8) | b[3]! } : {};
  if (b.length > maxLength) return { ok: false, reason: 'oversize', ...hint };
  if (b.length < MIN_FRAME_LENGTH) return { ok: false, reason: 'too-short', ...hint };
  const crcAt = b.length - CRC_LENGTH;
  const got = (b[crcAt]! << 8) | b[crcAt + 1]!;
  const want = crc16(b, 0, crcAt);
  if (got !== want) {
    return {
      ok: false,
      reason: 'bad-crc',
      ...hint,
      detail: `crc 0x${got.toString(16).padStart(4, '0')} != 0x${want.toString(16).padStart(4, '0')}`,
    };
  }
  const version = b[0]!;
  const type = b[1]!;
  const seq = (b[2]! << 8) | b[3]!;
  if (version !== PROTOCOL_VERSION)
    return { ok: false, reason: 'bad-version', type, seq, detail: `version ${version}` };
  if (!isFrameType(type))
    return { ok: false, reason: 'unknown-type', type, seq, detail: frameTypeName(type) };
  const pStart = HEADER_LENGTH;
  const pLen = crcAt - pStart;
  const fail = (reason: DecodeErrorReason, detail: string): DecodeError => ({
    ok: false,
    reason,
    type,
    seq,
    detail,
  });
  switch (type) {
    case FrameType.Ack:
    case FrameType.Ping:
    case FrameType.Pong:
      if (pLen !== 0) return fail('bad-payload', `${frameTypeName(type)} payload must be empty`);
      return { ok: true, frame: { type, seq } };
    case FrameType.Nack:
      if (pLen !== 1) return fail('bad-payload', 'NACK payload must be exactly 1 byte');
      return { ok: true, frame: { type, seq, reason: b[pStart]! } };
    case FrameType.Hello: {
      const r = parseHelloPayload(b.subarray(pStart, crcAt));
      if (!r.ok) return { ...r, type, seq };
      return { ok: true, frame: { type, seq, hello: r.hello } };
    }
    case FrameType.Data:
    case FrameType.Command: {
      if (pLen < 1) return fail('bad-payload', 'missing topic length');
      const tLen = b[pStart]!;
      const tStart = pStart + 1;
      const bodyStart = tStart + tLen;
      if (bodyStart > crcAt) return fail('bad-payload', 'topic length exceeds payload');
      if (!isValidTopicSuffix(b, tStart, bodyStart)) return fail('bad-topic', 'invalid topic suffix');
      if (!cborWellFormed(b, bodyStart, crcAt))
        return fail('bad-cbor', 'body is not exactly one well-formed CBOR item');
      const topic = utf8.decode(b.subarray(tStart, bodyStart));
      const body = Buffer.from(b.subarray(bodyStart, crcAt));
      return { ok: true, frame: { type, seq, topic, body } };
    }
  }
}

/**
 * §2/§3: decodes one frame from its wire bytes (COBS, with or without the
 * trailing 0x00). Never throws.
 */
export function decodeFrame(wire: Uint8Array, maxLength = MAX_FRAME_LENGTH): DecodeResult {
  const r = cobsDecode(wire, maxLength);
  if (!r.ok) {
    const p = r.partial;
    const hint = p.length >= HEADER_LENGTH ? { type: p[1]!, seq: (p[2]! << 8) | p[3]! } : {};
    return { ok: false, reason: r.reason, ...hint };
  }
  return parseFrame(r.data, maxLength);
}
