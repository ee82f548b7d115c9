// Streaming frame decoder for a byte stream (UART, PTY, pipe).
// Spec: firmware-bridge/PROTOCOL.md §2 (framing, resynchronisation), §7
// (error handling) and §8 (limits).
//
// COBS is decoded on the fly into one fixed buffer of maxFrameLength bytes,
// so memory is bounded whatever arrives. Every 0x00 ends a frame; whatever
// went wrong before it is reported once and the decoder starts afresh with
// the next byte, which is how it resynchronises after noise or a lost byte.

import {
  type DecodeError,
  type DecodeErrorReason,
  type DecodeResult,
  HEADER_LENGTH,
  isFramingError,
  MAX_FRAME_LENGTH,
  MIN_FRAME_LENGTH,
  parseFrame,
} from './frame.js';

export interface FrameDecoderOptions {
  /** Largest decoded frame accepted (header + payload + CRC). Default and maximum: 512 (§8). */
  maxFrameLength?: number;
}

export interface DecoderStats {
  /** Bytes pushed, delimiters included. */
  bytes: number;
  /** Valid frames yielded. */
  frames: number;
  /** Delimiters with nothing before them (idle fill, leading 0x00); ignored. */
  emptyFrames: number;
  /** Framing-level failures (cobs, too-short, oversize, bad-crc): data discarded up to the next delimiter. */
  resyncs: number;
  /** Wire bytes thrown away by resyncs (delimiters not counted). */
  droppedBytes: number;
  /** Truncated COBS blocks. */
  cobsErrors: number;
  /** Decoded frames shorter than 6 bytes. */
  tooShort: number;
  /** Frames whose CRC did not match. */
  crcErrors: number;
  /** Frames longer than maxFrameLength; cut off without buffering the rest. */
  oversize: number;
  /** Frames with a valid CRC but unacceptable content (version, type, payload, topic, CBOR, HELLO). */
  rejected: number;
}

function emptyStats(): DecoderStats {
  return {
    bytes: 0,
    frames: 0,
    emptyFrames: 0,
    resyncs: 0,
    droppedBytes: 0,
    cobsErrors: 0,
    tooShort: 0,
    crcErrors: 0,
    oversize: 0,
    rejected: 0,
  };
}

/**
 * push() bytes as they arrive; it returns the frames and errors completed by
 * them, in stream order. Never throws on any input.
 */
export class FrameDecoder {
  readonly maxFrameLength: number;
  private readonly buf: Uint8Array;
  /** Decoded bytes in buf. */
  private len = 0;
  /** Data bytes still expected in the current COBS block (0 = next byte is a code byte). */
  private blockRemaining = 0;
  /** Code byte of the previous block; 0xff (no implicit zero) at frame start. */
  private prevCode = 0xff;
  /** Wire bytes of the current segment (since the last delimiter). */
  private segmentBytes = 0;
  /** An oversize frame was reported; skip until the next delimiter. */
  private discarding = false;
  private counters: DecoderStats = emptyStats();

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameLength ?? MAX_FRAME_LENGTH;
    if (!Number.isInteger(max) || max < MIN_FRAME_LENGTH || max > MAX_FRAME_LENGTH)
      throw new RangeError(`maxFrameLength must be ${MIN_FRAME_LENGTH}..${MAX_FRAME_LENGTH}`);
    this.maxFrameLength = max;
    this.buf = new Uint8Array(max);
  }

  /** A snapshot of the counters. */
  get stats(): DecoderStats {
    return { ...this.counters };
  }

  /** Wire bytes of an incomplete frame currently held (they are decoded into at most maxFrameLength bytes). */
  get pendingBytes(): number {
    return this.segmentBytes;
  }

  /** Forgets any partial frame (e.g. after reopening the port). Counters are kept. */
  reset(): void {
    this.len = 0;
    this.blockRemaining = 0;
    this.prevCode = 0xff;
    this.segmentBytes = 0;
    this.discarding = false;
  }

  /** Feeds bytes; returns frames/errors completed by them. */
  push(chunk: Uint8Array): DecodeResult[] {
    const out: DecodeResult[] = [];
    const buf = this.buf;
    const max = this.maxFrameLength;
    const s = this.counters;
    s.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const x = chunk[i]!;
      if (x === 0) {
        this.endOfFrame(out);
        continue;
      }
      this.segmentBytes++;
      if (this.discarding) continue;
      if (this.blockRemaining === 0) {
        // code byte: the previous block (if shorter than 254 bytes) implied a zero
        if (this.prevCode !== 0xff) {
          if (this.len >= max) {
            this.overflow(out);
            continue;
          }
          buf[this.len++] = 0;
        }
        this.prevCode = x;
        this.blockRemaining = x - 1;
      } else {
        if (this.len >= max) {
          this.overflow(out);
          continue;
        }
        buf[this.len++] = x;
        this.blockRemaining--;
      }
    }
    return out;
  }

  private hint(): { seq?: number; type?: number } {
    return this.len >= HEADER_LENGTH ? { type: this.buf[1]!, seq: (this.buf[2]! << 8) | this.buf[3]! } : {};
  }

  private overflow(out: DecodeResult[]): void {
    this.counters.oversize++;
    this.counters.resyncs++;
    this.discarding = true;
    out.push({ ok: false, reason: 'oversize', ...this.hint() });
  }

  private endOfFrame(out: DecodeResult[]): void {
    const s = this.counters;
    if (this.discarding) {
      s.droppedBytes += this.segmentBytes;
    } else if (this.segmentBytes === 0) {
      s.emptyFrames++;
    } else if (this.blockRemaining > 0) {
      this.fail(out, { ok: false, reason: 'cobs', ...this.hint(), detail: 'truncated COBS block' });
    } else {
      const r = parseFrame(this.buf.subarray(0, this.len), this.maxFrameLength);
      if (r.ok) {
        s.frames++;
        out.push(r);
      } else {
        this.fail(out, r);
      }
    }
    this.reset();
  }

  private fail(out: DecodeResult[], err: DecodeError): void {
    const s = this.counters;
    const reason: DecodeErrorReason = err.reason;
    if (isFramingError(reason)) {
      s.resyncs++;
      s.droppedBytes += this.segmentBytes;
      if (reason === 'cobs') s.cobsErrors++;
      else if (reason === 'too-short') s.tooShort++;
      else if (reason === 'bad-crc') s.crcErrors++;
      else s.oversize++;
    } else {
      s.rejected++;
    }
    out.push(err);
  }
}
