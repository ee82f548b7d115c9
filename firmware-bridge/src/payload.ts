/**
 * Payload conversions between the serial side (always CBOR, PROTOCOL.md §5.2)
 * and the MQTT side (CBOR as the device sent it, or JSON when configured).
 */
import {
  type CborEncodable,
  type CborValue,
  cborWellFormed,
  decodeCbor,
  encodeCbor,
} from './protocol/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** CBOR value -> JSON value. Lossy where JSON has no form: bytes become base64, NaN/undefined null. */
export function cborToJson(v: CborValue): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(cborToJson);
  if (v instanceof Map) {
    const out: { [key: string]: Json } = {};
    for (const [k, x] of v) out[typeof k === 'string' ? k : JSON.stringify(cborToJson(k))] = cborToJson(x);
    return out;
  }
  if ('tag' in v) return { tag: v.tag, value: cborToJson(v.value) };
  return null;
}

/** The MQTT payload for a DATA body. The body was checked well-formed by the frame parser. */
export function uplinkPayload(body: Buffer, mode: 'cbor' | 'json'): Buffer {
  if (mode === 'cbor') return body;
  const r = decodeCbor(body);
  // well-formed but not decodable (e.g. invalid UTF-8 in a text string): keep the bytes
  if (!r.ok) return body;
  return Buffer.from(JSON.stringify(cborToJson(r.value)));
}

export type CommandBody = { ok: true; body: Buffer } | { ok: false; reason: string };

/**
 * The CBOR body of a COMMAND frame from an MQTT command payload.
 * auto: JSON text is converted (so `{"on":true}` works from any MQTT tool);
 * anything else must be one well-formed CBOR item. An empty payload is CBOR null.
 */
export function commandBody(payload: Buffer, mode: 'auto' | 'cbor' | 'json'): CommandBody {
  if (payload.length === 0) return { ok: true, body: Buffer.from([0xf6]) };
  if (mode !== 'cbor') {
    let parsed: unknown;
    let isJson = false;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
      isJson = true;
    } catch {
      if (mode === 'json') return { ok: false, reason: 'payload is not JSON' };
    }
    if (isJson) {
      try {
        return { ok: true, body: encodeCbor(parsed as CborEncodable) };
      } catch (err) {
        return { ok: false, reason: `cannot encode as CBOR: ${(err as Error).message}` };
      }
    }
  }
  if (!cborWellFormed(payload)) return { ok: false, reason: 'payload is not one well-formed CBOR item' };
  return { ok: true, body: payload };
}
