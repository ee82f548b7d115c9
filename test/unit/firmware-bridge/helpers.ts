// Shared helpers for the firmware-bridge protocol tests (not a test file).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CborEncodable,
  encodeCbor,
  type FrameInput,
  FrameType,
  frameTypeFromName,
  type HelloInfo,
  MAX_FRAME_LENGTH,
  serializeFrame,
} from '../../../firmware-bridge/src/protocol/index.js';

/** The repository root: the nearest ancestor of this (compiled) file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test file');
    dir = up;
  }
}

export type BodyField = [
  key: string,
  kind: 'int' | 'float' | 'text' | 'bool',
  value: number | string | boolean,
];

export interface ValidVector {
  name: string;
  description: string;
  version: number;
  type: string;
  typeCode: number;
  seq: number;
  topic?: string;
  bodyHex?: string;
  bodyFields?: BodyField[];
  reason?: number;
  hello?: HelloInfo;
  payloadHex: string;
  crcHex: string;
  rawHex: string;
  encodedHex: string;
  rawLength: number;
  encodedLength: number;
}

export interface InvalidVector {
  name: string;
  description: string;
  encodedHex: string;
  error: string;
  seqHint?: number;
  layer?: string;
}

export interface VectorFile {
  version: number;
  maxFrameLength: number;
  maxWireLength: number;
  vectors: ValidVector[];
  invalid: InvalidVector[];
}

export function loadVectors(): VectorFile {
  const file = join(repoRoot(), 'firmware-bridge', 'test-vectors', 'vectors.json');
  return JSON.parse(readFileSync(file, 'utf8')) as VectorFile;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

/** The FrameInput a valid vector describes. */
export function vectorInput(v: ValidVector): FrameInput {
  const type = frameTypeFromName(v.type);
  if (type === undefined) throw new Error(`unknown type ${v.type}`);
  switch (type) {
    case FrameType.Hello:
      return { type, seq: v.seq, hello: v.hello! };
    case FrameType.Data:
    case FrameType.Command:
      return { type, seq: v.seq, topic: v.topic!, body: unhex(v.bodyHex!) };
    case FrameType.Nack:
      return { type, seq: v.seq, reason: v.reason! };
    default:
      return { type, seq: v.seq };
  }
}

/** The CBOR map a vector's bodyFields describe, encoded like the C writer does. */
export function bodyFromFields(fields: BodyField[]): Buffer {
  const obj: Record<string, CborEncodable> = {};
  for (const [k, , v] of fields) obj[k] = v;
  return encodeCbor(obj);
}

/** mulberry32: small, fast, seeded PRNG so fuzz runs are reproducible. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const bytes = (n: number, zeroChance = 1 / 256): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = next() < zeroChance ? 0 : int(1, 255);
    return b;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, int, bytes, pick };
}
export type Prng = ReturnType<typeof prng>;

const SEGMENTS = ['t', 'env', 'sensors', 'bed3', 'led', 'set', 'température', '°C', 'a-b_c.d'];

function randomTopic(r: Prng): string {
  const n = r.int(0, 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(r.pick(SEGMENTS));
  return parts.join('/');
}

function randomCborValue(r: Prng, depth = 0): CborEncodable {
  const k = r.int(0, depth > 2 ? 5 : 7);
  switch (k) {
    case 0:
      return r.int(-100000, 100000);
    case 1:
      return r.next() * 1000 - 500;
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return 'x'.repeat(r.int(0, 30));
    case 4:
      return r.bytes(r.int(0, 40), 0.3);
    case 5:
      return Math.fround(r.next() * 100);
    case 6: {
      const arr: CborEncodable[] = [];
      for (let i = r.int(0, 4); i > 0; i--) arr.push(randomCborValue(r, depth + 1));
      return arr;
    }
    default: {
      const obj: Record<string, CborEncodable> = {};
      for (let i = r.int(0, 4); i > 0; i--) obj[`k${i}`] = randomCborValue(r, depth + 1);
      return obj;
    }
  }
}

/** A random valid frame of any type (at most 512 bytes decoded). */
export function randomFrame(r: Prng): FrameInput {
  for (;;) {
    const f = randomFrameCandidate(r);
    try {
      if (serializeFrame(f).length <= MAX_FRAME_LENGTH) return f;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e; // too big: draw again
    }
  }
}

function randomFrameCandidate(r: Prng): FrameInput {
  const seq = r.int(0, 0xffff);
  const t = r.pick([
    FrameType.Hello,
    FrameType.Data,
    FrameType.Data,
    FrameType.Data,
    FrameType.Ack,
    FrameType.Nack,
    FrameType.Command,
    FrameType.Ping,
    FrameType.Pong,
  ]);
  switch (t) {
    case FrameType.Hello:
      return {
        type: t,
        seq,
        hello: {
          deviceId: `dev-${r.int(0, 9999)}`,
          firmware: `${r.int(0, 9)}.${r.int(0, 99)}`,
          capabilities: r.next() < 0.5 ? ['cmd'] : [],
          maxFrame: r.pick([512, 128, 64]),
        },
      };
    case FrameType.Data:
    case FrameType.Command:
      return { type: t, seq, topic: randomTopic(r), body: encodeCbor(randomCborValue(r)) };
    case FrameType.Nack:
      return { type: t, seq, reason: r.int(1, 9) };
    default:
      return { type: t, seq };
  }
}
