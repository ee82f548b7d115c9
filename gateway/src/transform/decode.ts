/**
 * Payload decoding at ingest: json, cbor (cbor-x), raw, or auto (sniff). A
 * payload is already bounded by mqtt.maxPacketSize, and cbor-x throws (we
 * catch) on declared lengths the bytes cannot hold, so a hostile payload costs
 * at most its own size. Failures become dead letters with the reason.
 */
import { Decoder } from 'cbor-x';

export type DecodeMode = 'json' | 'cbor' | 'raw' | 'auto';
export type Decoded =
  | { ok: true; value: unknown; format: 'json' | 'cbor' | 'raw' }
  | { ok: false; reason: string };

const cbor = new Decoder({ mapsAsObjects: true, useRecords: false });

function firstByte(p: Buffer): number | undefined {
  for (const b of p) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  return undefined;
}

function asJson(p: Buffer): Decoded {
  try {
    return { ok: true, value: JSON.parse(p.toString('utf8')), format: 'json' };
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
}

function asCbor(p: Buffer): Decoded {
  try {
    return { ok: true, value: cbor.decode(p), format: 'cbor' };
  } catch (err) {
    return { ok: false, reason: `invalid CBOR: ${(err as Error).message}` };
  }
}

export function decodePayload(payload: Buffer, mode: DecodeMode): Decoded {
  switch (mode) {
    case 'raw':
      return { ok: true, value: payload, format: 'raw' };
    case 'json':
      return asJson(payload);
    case 'cbor':
      return asCbor(payload);
    case 'auto': {
      // JSON text starts with { [ " a digit - t f n; CBOR maps and arrays start with 0x80-0xbf
      const b = firstByte(payload);
      if (b === undefined) return { ok: false, reason: 'empty payload' };
      return b === 0x7b || b === 0x5b ? asJson(payload) : asCbor(payload);
    }
  }
}
