// Minimal, dependency-free CBOR (RFC 8949) support for the serial protocol.
// Spec: firmware-bridge/PROTOCOL.md §5 (payloads are CBOR) and §5.2 (DATA body
// must be exactly one well-formed CBOR data item, nesting depth <= 16).
//
// - cborWellFormed(): allocation-free well-formedness check used on every
//   DATA/COMMAND body; mirrors tg_cbor_check() in firmware/tidegate_proto.c.
// - decodeCbor(): small strict decoder (used for HELLO maps).
// - encodeCbor(): deterministic encoder; numbers that are integers use the
//   shortest integer form, other numbers float32 when exact, else float64
//   (so the output matches the C reference writer for the same values).
// Nothing here throws on bad input except encodeCbor() on unsupported values.

/** Maximum nesting depth of arrays/maps/tags accepted in protocol payloads. */
export const CBOR_MAX_DEPTH = 16;

const BREAK = 0xff;

/**
 * Reads the argument of the item head at `p`. Returns the position after the
 * head and the argument (as a number; 64-bit arguments above 2^53 become
 * Infinity, which is always "too long" for lengths), or -1 if not well-formed.
 * ai 31 (indefinite) is reported as arg = -1.
 */
function readHead(
  b: Uint8Array,
  p: number,
  end: number,
): { next: number; major: number; ai: number; arg: number } | null {
  if (p >= end) return null;
  const ib = b[p]!;
  const major = ib >> 5;
  const ai = ib & 0x1f;
  let q = p + 1;
  let arg: number;
  if (ai < 24) {
    arg = ai;
  } else if (ai === 24) {
    if (q + 1 > end) return null;
    arg = b[q]!;
    q += 1;
  } else if (ai === 25) {
    if (q + 2 > end) return null;
    arg = (b[q]! << 8) | b[q + 1]!;
    q += 2;
  } else if (ai === 26) {
    if (q + 4 > end) return null;
    arg = ((b[q]! << 24) >>> 0) + ((b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!);
    q += 4;
  } else if (ai === 27) {
    if (q + 8 > end) return null;
    const hi = ((b[q]! << 24) >>> 0) + ((b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!);
    const lo = ((b[q + 4]! << 24) >>> 0) + ((b[q + 5]! << 16) | (b[q + 6]! << 8) | b[q + 7]!);
    arg = hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * 0x100000000 + lo;
    q += 8;
  } else if (ai === 31) {
    arg = -1;
  } else {
    return null; // ai 28..30 reserved
  }
  return { next: q, major, ai, arg };
}

/**
 * True iff `b[start, end)` is exactly one well-formed CBOR data item with
 * nesting depth <= CBOR_MAX_DEPTH. Iterative, allocation-light, never throws.
 */
export function cborWellFormed(b: Uint8Array, start = 0, end = b.length): boolean {
  // Stack of open containers: remaining child items (-1 = indefinite) and,
  // for indefinite strings, the major type chunks must have (else -1).
  const remaining: number[] = [];
  const chunkMajor: number[] = [];
  let p = start;
  // Number of items still expected at top level: exactly one.
  let topLevel = 1;
  while (topLevel > 0 || remaining.length > 0) {
    const depth = remaining.length;
    if (depth > 0 && remaining[depth - 1] === 0) {
      remaining.pop();
      chunkMajor.pop();
      continue;
    }
    if (p >= end) return false;
    if (b[p] === BREAK) {
      if (depth === 0 || remaining[depth - 1] !== -1) return false;
      p++;
      remaining.pop();
      chunkMajor.pop();
      continue;
    }
    const h = readHead(b, p, end);
    if (!h) return false;
    // This head is one child of the innermost container (or the top item).
    const inString = depth > 0 ? chunkMajor[depth - 1]! : -1;
    if (inString !== -1 && (h.major !== inString || h.ai === 31)) return false;
    if (depth === 0) topLevel--;
    else if (remaining[depth - 1]! > 0) remaining[depth - 1]!--;
    p = h.next;
    switch (h.major) {
      case 0:
      case 1:
        if (h.ai === 31) return false;
        break;
      case 2:
      case 3:
        if (h.ai === 31) {
          if (depth + 1 > CBOR_MAX_DEPTH) return false;
          remaining.push(-1);
          chunkMajor.push(h.major);
        } else {
          if (h.arg > end - p) return false;
          p += h.arg;
        }
        break;
      case 4:
      case 5: {
        if (depth + 1 > CBOR_MAX_DEPTH) return false;
        if (h.ai === 31) {
          remaining.push(-1);
        } else {
          const items = h.major === 5 ? h.arg * 2 : h.arg;
          if (items > end - p) return false; // every item needs >= 1 byte
          remaining.push(items);
        }
        chunkMajor.push(-1);
        break;
      }
      case 6:
        if (h.ai === 31) return false;
        if (depth + 1 > CBOR_MAX_DEPTH) return false;
        remaining.push(1);
        chunkMajor.push(-1);
        break;
      default: // 7: simple values and floats
        if (h.ai === 31) return false; // break outside indefinite container handled above
        if (h.ai === 24 && h.arg < 32) return false;
        break;
    }
  }
  return p === end;
}

/** A CBOR tag that decodeCbor() does not interpret. */
export interface CborTagged {
  tag: number;
  value: CborValue;
}

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborValue, CborValue>
  | CborTagged
  | { simple: number };

export type CborDecodeResult = { ok: true; value: CborValue } | { ok: false };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

class Fail extends Error {}

/**
 * Decodes exactly one CBOR data item from `b`. Maps become `Map`s, byte
 * strings `Uint8Array`s, integers beyond 2^53 `bigint`s. Text must be valid
 * UTF-8. Never throws.
 */
export function decodeCbor(b: Uint8Array): CborDecodeResult {
  if (!cborWellFormed(b)) return { ok: false };
  let p = 0;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bigArg = (at: number): bigint => dv.getBigUint64(at);
  const readItem = (): CborValue => {
    const start = p;
    const h = readHead(b, p, b.length)!;
    p = h.next;
    switch (h.major) {
      case 0:
        return h.ai === 27 && h.arg > Number.MAX_SAFE_INTEGER ? bigArg(start + 1) : h.arg;
      case 1:
        return h.ai === 27 && h.arg >= Number.MAX_SAFE_INTEGER ? -1n - bigArg(start + 1) : -1 - h.arg;
      case 2:
      case 3: {
        let bytes: Uint8Array;
        if (h.ai === 31) {
          const parts: Uint8Array[] = [];
          while (b[p] !== BREAK) {
            const c = readHead(b, p, b.length)!;
            parts.push(b.subarray(c.next, c.next + c.arg));
            p = c.next + c.arg;
          }
          p++;
          bytes = new Uint8Array(Buffer.concat(parts));
        } else {
          bytes = new Uint8Array(b.subarray(p, p + h.arg));
          p += h.arg;
        }
        if (h.major === 2) return bytes;
        try {
          return utf8.decode(bytes);
        } catch {
          throw new Fail();
        }
      }
      case 4: {
        const arr: CborValue[] = [];
        if (h.ai === 31) {
          while (b[p] !== BREAK) arr.push(readItem());
          p++;
        } else {
          for (let i = 0; i < h.arg; i++) arr.push(readItem());
        }
        return arr;
      }
      case 5: {
        const map = new Map<CborValue, CborValue>();
        const entry = () => {
          const k = readItem();
          map.set(k, readItem());
        };
        if (h.ai === 31) {
          while (b[p] !== BREAK) entry();
          p++;
        } else {
          for (let i = 0; i < h.arg; i++) entry();
        }
        return map;
      }
      case 6:
        return { tag: h.arg, value: readItem() };
      default:
        if (h.ai === 25) return halfToNumber(h.arg);
        if (h.ai === 26) return dv.getFloat32(start + 1);
        if (h.ai === 27) return dv.getFloat64(start + 1);
        if (h.arg === 20) return false;
        if (h.arg === 21) return true;
        if (h.arg === 22) return null;
        if (h.arg === 23) return undefined;
        return { simple: h.arg };
    }
  };
  try {
    return { ok: true, value: readItem() };
  } catch {
    return { ok: false };
  }
}

/** Values encodeCbor() accepts. Plain objects encode as maps with text keys. */
export type CborEncodable =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | readonly CborEncodable[]
  | ReadonlyMap<CborEncodable, CborEncodable>
  | { readonly [key: string]: CborEncodable };

const utf8enc = new TextEncoder();

/** Deterministic CBOR encoding of `value` (see header comment). Throws TypeError on unsupported values. */
export function encodeCbor(value: CborEncodable): Buffer {
  const chunks: number[] = [];
  const head = (major: number, arg: number | bigint) => {
    const m = major << 5;
    if (typeof arg === 'bigint') {
      if (arg < 0n || arg > 0xffffffffffffffffn) throw new TypeError('CBOR integer out of range');
      if (arg <= BigInt(Number.MAX_SAFE_INTEGER)) return head(major, Number(arg));
      chunks.push(m | 27);
      for (let s = 56n; s >= 0n; s -= 8n) chunks.push(Number((arg >> s) & 0xffn));
      return;
    }
    if (arg < 24) chunks.push(m | arg);
    else if (arg < 0x100) chunks.push(m | 24, arg);
    else if (arg < 0x10000) chunks.push(m | 25, arg >> 8, arg & 0xff);
    else if (arg < 0x100000000)
      chunks.push(m | 26, arg >>> 24, (arg >>> 16) & 0xff, (arg >>> 8) & 0xff, arg & 0xff);
    else head(major, BigInt(arg));
  };
  const bytes = (u: Uint8Array) => {
    for (let i = 0; i < u.length; i++) chunks.push(u[i]!);
  };
  // depth = number of containers enclosing v
  const open = (depth: number) => {
    if (depth + 1 > CBOR_MAX_DEPTH) throw new TypeError('CBOR nesting too deep');
  };
  const item = (v: CborEncodable, depth: number): void => {
    if (v === null) chunks.push(0xf6);
    else if (v === undefined) chunks.push(0xf7);
    else if (v === false) chunks.push(0xf4);
    else if (v === true) chunks.push(0xf5);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        if (v >= 0) head(0, v);
        else head(1, -1 - v);
      } else if (Number.isNaN(v) || Math.fround(v) === v) {
        const f = new DataView(new ArrayBuffer(4));
        f.setFloat32(0, v);
        chunks.push(0xfa);
        bytes(new Uint8Array(f.buffer));
      } else {
        const f = new DataView(new ArrayBuffer(8));
        f.setFloat64(0, v);
        chunks.push(0xfb);
        bytes(new Uint8Array(f.buffer));
      }
    } else if (typeof v === 'bigint') {
      if (v >= 0n) head(0, v);
      else head(1, -1n - v);
    } else if (typeof v === 'string') {
      const u = utf8enc.encode(v);
      head(3, u.length);
      bytes(u);
    } else if (v instanceof Uint8Array) {
      head(2, v.length);
      bytes(v);
    } else if (Array.isArray(v)) {
      open(depth);
      head(4, v.length);
      for (const x of v as readonly CborEncodable[]) item(x, depth + 1);
    } else if (v instanceof Map) {
      open(depth);
      head(5, v.size);
      for (const [k, x] of v as ReadonlyMap<CborEncodable, CborEncodable>) {
        item(k, depth + 1);
        item(x, depth + 1);
      }
    } else if (typeof v === 'object') {
      open(depth);
      const entries = Object.entries(v as { readonly [key: string]: CborEncodable });
      head(5, entries.length);
      for (const [k, x] of entries) {
        item(k, depth + 1);
        item(x, depth + 1);
      }
    } else {
      throw new TypeError(`cannot CBOR-encode ${typeof v}`);
    }
  };
  item(value, 0);
  return Buffer.from(chunks);
}
