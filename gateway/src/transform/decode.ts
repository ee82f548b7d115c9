/**
 * Payload decoding at ingest: json, cbor (cbor-x), raw, or auto (sniff). A
 * payload is already bounded by mqtt.maxPacketSize. cbor-x allocates an array
 * or map from its declared length before reading the items, so the declared
 * sizes are capped (setSizeLimits): every item takes at least one byte, so no
 * real payload under 1 MiB comes near the cap, while a 6-byte header claiming
 * 2^31 items is refused before any allocation. Strings and byte strings
 * longer than the bytes left fail without allocating; nesting too deep ends
 * in a RangeError that is caught like any other failure. Failures become dead
 * letters with the reason.
 */
import { Decoder, setSizeLimits } from 'cbor-x';

/** Most items a decoded CBOR array, map or object may declare. */
export const MAX_CBOR_ITEMS = 1 << 20;
// process-wide in cbor-x; the gateway is the only CBOR decoder in this process
setSizeLimits({ maxArraySize: MAX_CBOR_ITEMS, maxMapSize: MAX_CBOR_ITEMS, maxObjectSize: MAX_CBOR_ITEMS });

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
