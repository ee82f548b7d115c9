// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999) with 0x00 as the
// frame delimiter. Spec: firmware-bridge/PROTOCOL.md §2 (Framing).
//
// The encoder is canonical: a block that ends with a full 254-byte run (code
// 0xFF) at the very end of the input is not followed by an extra 0x01 code.
// The decoder also accepts that non-canonical trailing 0x01.
// Neither function throws on bad input.

/** Frame delimiter on the wire. */
export const COBS_DELIMITER = 0x00;

/** Worst-case COBS-encoded length (without delimiter) of `n` input bytes. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * COBS-encodes `src`. The result contains no 0x00 byte and does NOT include
 * the trailing delimiter; pass `withDelimiter` to append it.
 */
export function cobsEncode(src: Uint8Array, withDelimiter = false): Buffer {
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(src.length) + (withDelimiter ? 1 : 0));
  let codeIdx = 0;
  let len = 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0) {
      out[codeIdx] = code;
      codeIdx = len++;
      code = 1;
    } else {
      out[len++] = b;
      code++;
      if (code === 0xff && i + 1 < src.length) {
        out[codeIdx] = code;
        codeIdx = len++;
        code = 1;
      }
    }
  }
  out[codeIdx] = code;
  if (withDelimiter) out[len++] = COBS_DELIMITER;
  return out.subarray(0, len);
}

export type CobsDecodeResult =
  | { ok: true; data: Buffer }
  | {
      ok: false;
      reason: 'cobs' | 'oversize' /** decoded bytes so far (at most maxLength) */;
      partial: Buffer;
    };

/**
 * Decodes one COBS block sequence (without delimiter; a single trailing 0x00
 * is tolerated and ignored). Fails with `cobs` when a 0x00 appears inside the
 * data or a block is truncated, and with `oversize` as soon as the output
 * would exceed `maxLength` bytes (so memory stays bounded).
 */
export function cobsDecode(src: Uint8Array, maxLength = Number.POSITIVE_INFINITY): CobsDecodeResult {
  let end = src.length;
  if (end > 0 && src[end - 1] === COBS_DELIMITER) end--;
  const cap = Math.min(end, maxLength);
  const out = Buffer.allocUnsafe(Math.max(0, cap));
  let len = 0;
  let i = 0;
  let prevCode = 0xff; // no implicit zero before the first block
  while (i < end) {
    const code = src[i++]!;
    if (code === 0) return { ok: false, reason: 'cobs', partial: out.subarray(0, len) };
    if (prevCode !== 0xff) {
      if (len >= maxLength) return { ok: false, reason: 'oversize', partial: out.subarray(0, len) };
      out[len++] = 0;
    }
    for (let n = code - 1; n > 0; n--) {
      if (i >= end) return { ok: false, reason: 'cobs', partial: out.subarray(0, len) };
      const b = src[i++]!;
      if (b === 0) return { ok: false, reason: 'cobs', partial: out.subarray(0, len) };
      if (len >= maxLength) return { ok: false, reason: 'oversize', partial: out.subarray(0, len) };
      out[len++] = b;
    }
    prevCode = code;
  }
  return { ok: true, data: out.subarray(0, len) };
}
