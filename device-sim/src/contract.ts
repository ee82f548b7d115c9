/**
 * The payload contract of a simulated message: every message names its run,
 * its device, its per-device sequence number and its send time, so the
 * verifier can tell from the upstream side alone what arrived, what is
 * missing and how long it took. JSON or CBOR, same fields.
 */
import { decode, encode } from 'cbor-x';
import type { RecordEnvelope } from '../../gateway/src/contracts/record.js';

export type Encoding = 'json' | 'cbor';

export interface SimPayload {
  /** run id: tells this run's messages from older ones in the same upstream */
  run: string;
  /** device id (also the MQTT client id) */
  dev: string;
  /** per-device sequence number, from 0, no gaps at generation */
  seq: number;
  /** send time, ms since the epoch (the device's clock) */
  ts: number;
  /** the profile's reading */
  data: Record<string, unknown>;
  /** padding to reach the configured payload size */
  pad?: string;
}

export function encodePayload(p: SimPayload, encoding: Encoding, size = 0): Buffer {
  const enc = (v: SimPayload) => (encoding === 'json' ? Buffer.from(JSON.stringify(v)) : encode(v));
  const bare = enc(p);
  if (bare.length >= size) return bare;
  // a string of n ASCII chars costs n bytes plus a few for the key and length prefix
  const out = enc({ ...p, pad: 'x'.repeat(Math.max(0, size - bare.length - 9)) });
  return out;
}

function isSimPayload(v: unknown): v is SimPayload {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.run === 'string' &&
    typeof o.dev === 'string' &&
    Number.isInteger(o.seq) &&
    typeof o.ts === 'number'
  );
}

/** Decodes raw payload bytes (JSON or CBOR); null when they are not a simulated message. */
export function decodePayload(bytes: Uint8Array): SimPayload | null {
  const first = bytes.find((c) => c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09);
  try {
    const v: unknown =
      first === 0x7b ? JSON.parse(Buffer.from(bytes).toString('utf8')) : decode(Buffer.from(bytes));
    return isSimPayload(v) ? v : null;
  } catch {
    return null;
  }
}

/** Decodes the payload of a record envelope (inline JSON, or base64 bytes). */
export function payloadOfEnvelope(e: RecordEnvelope): SimPayload | null {
  if (e.payload !== undefined) return isSimPayload(e.payload) ? e.payload : null;
  if (typeof e.payloadBase64 === 'string') return decodePayload(Buffer.from(e.payloadBase64, 'base64'));
  return null;
}

/** Topic pattern placeholders: {device}, {profile}, {index}. */
export function fillTopic(pattern: string, device: string, profile: string, index: number): string {
  return pattern
    .replaceAll('{device}', device)
    .replaceAll('{profile}', profile)
    .replaceAll('{index}', String(index));
}
