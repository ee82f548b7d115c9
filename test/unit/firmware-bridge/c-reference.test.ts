// Builds the C99 reference (firmware-bridge/firmware) with gcc into a temp
// dir, runs its vector test, and cross-checks it against the TypeScript codec
// in both directions, including the example device over a pipe and a PTY.
// Spec: firmware-bridge/PROTOCOL.md.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cborWellFormed,
  cobsEncode,
  type DecodeResult,
  decodeCbor,
  decodeFrame,
  encodeCbor,
  encodeFrame,
  encodeRawFrame,
  type Frame,
  FrameDecoder,
  type FrameInput,
  FrameType,
  framePayload,
  isValidTopicSuffix,
  NackReason,
  serializeFrame,
} from '../../../firmware-bridge/src/protocol/index.js';
import { hex, loadVectors, type Prng, prng, randomFrame, repoRoot, unhex } from './helpers.js';

const root = repoRoot();
const fwDir = join(root, 'firmware-bridge', 'firmware');
const vectorsPath = join(root, 'firmware-bridge', 'test-vectors', 'vectors.json');
const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const hasSocat = spawnSync('socat', ['-V']).status === 0;
const CFLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2'];

let dir = '';
let testBin = '';
let deviceBin = '';

/** Runs `test_proto batch` once with the given command lines; returns its output lines. */
function batch(lines: string[]): string[] {
  const r = spawnSync(testBin, ['batch'], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const hexOr = (b: Uint8Array) => (b.length ? hex(b) : '-');

/** C batch "D" output for one stream, in the same shape as describeTs(). */
function decodeInC(streams: Uint8Array[]): string[][] {
  const out = batch(streams.map((s) => `D ${hexOr(s)}`));
  const res: string[][] = [];
  let cur: string[] = [];
  for (const line of out) {
    if (line === '.') {
      res.push(cur);
      cur = [];
    } else {
      cur.push(line);
    }
  }
  expect(res.length).toBe(streams.length);
  return res;
}

/** The TS FrameDecoder's events for a stream, in the C batch format. */
function decodeInTs(stream: Uint8Array): string[] {
  return new FrameDecoder().push(stream).map((r) => {
    if (r.ok) {
      const raw = serializeFrame(r.frame as FrameInput);
      return `F ${r.frame.type} ${r.frame.seq} ${hexOr(raw.subarray(4, raw.length - 2))}`;
    }
    return `R ${r.reason} ${r.seq ?? '-'}`;
  });
}

function randomInputs(r: Prng, n: number): FrameInput[] {
  return Array.from({ length: n }, () => randomFrame(r));
}

/** The batch command that makes the C side encode `f` through its most specific API. */
function cEncodeCommand(f: FrameInput): string {
  if (f.type === FrameType.Data || f.type === FrameType.Command) {
    return `T ${f.type} ${f.seq} ${hexOr(Buffer.from(f.topic, 'utf8'))} ${hexOr(f.body)}`;
  }
  if (f.type === FrameType.Hello) {
    const h = f.hello;
    return `H ${f.seq} ${h.deviceId} ${h.firmware} ${h.maxFrame ?? 512} ${(h.capabilities ?? []).join(' ')}`.trim();
  }
  return `E ${f.type} ${f.seq} ${hexOr(framePayload(f))}`;
}

/** Frames and errors from a byte stream, awaited one at a time. */
class Link {
  private readonly decoder = new FrameDecoder();
  private readonly queue: DecodeResult[] = [];
  private wake: (() => void) | null = null;
  constructor(private readonly writeFn: (b: Buffer) => void) {}

  feed(chunk: Buffer): void {
    this.queue.push(...this.decoder.push(chunk));
    this.wake?.();
  }

  send(f: FrameInput): void {
    this.writeFn(encodeFrame(f));
  }

  sendRaw(b: Buffer): void {
    this.writeFn(b);
  }

  async next(timeoutMs = 5000): Promise<DecodeResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame from the device');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    return this.queue.shift()!;
  }

  async frame(type: FrameType, seq?: number): Promise<Frame> {
    const r = await this.next();
    if (!r.ok) throw new Error(`device sent a bad frame: ${r.reason}`);
    expect(r.frame.type).toBe(type);
    if (seq !== undefined) expect(r.frame.seq).toBe(seq);
    return r.frame;
  }

  get stats() {
    return this.decoder.stats;
  }
}

function exitOf(p: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (p.exitCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('example_device did not exit')), timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

function readingBody(f: Frame): Map<unknown, unknown> {
  if (f.type !== FrameType.Data) throw new Error('not DATA');
  const v = decodeCbor(f.body);
  if (!v.ok || !(v.value instanceof Map)) throw new Error('DATA body is not a CBOR map');
  return v.value as Map<unknown, unknown>;
}

describe.skipIf(!hasGcc)('C reference implementation', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidegate-c-'));
    const obj = join(dir, 'tidegate_proto.o');
    testBin = join(dir, 'test_proto');
    deviceBin = join(dir, 'example_device');
    execFileSync(process.execPath, [join(fwDir, 'gen-vectors.mjs'), vectorsPath, join(dir, 'vectors.h')], {
      stdio: 'pipe',
    });
    execFileSync('gcc', [...CFLAGS, '-c', 'tidegate_proto.c', '-o', obj], { cwd: fwDir, stdio: 'pipe' });
    execFileSync('gcc', [...CFLAGS, `-I${dir}`, '-I.', 'test_proto.c', obj, '-o', testBin], {
      cwd: fwDir,
      stdio: 'pipe',
    });
    execFileSync('gcc', [...CFLAGS, '-I.', 'example_device.c', obj, '-o', deviceBin], {
      cwd: fwDir,
      stdio: 'pipe',
    });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compiles warning-free and passes every vector (test_proto exits 0)', () => {
    const r = spawnSync(testBin, [], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const v = loadVectors();
    const m = /test_proto: (\d+) valid \+ (\d+) invalid vectors, (\d+) checks, 0 failures/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(v.vectors.length);
    expect(Number(m![2])).toBe(v.invalid.length);
    expect(Number(m![3])).toBeGreaterThan(5000);
  });

  it('TS-encoded frames decode in C', () => {
    const inputs = randomInputs(prng(11), 1500);
    const c = decodeInC(inputs.map((f) => encodeFrame(f)));
    inputs.forEach((f, i) => {
      const raw = serializeFrame(f);
      expect(c[i]).toEqual([`F ${f.type} ${f.seq} ${hexOr(raw.subarray(4, raw.length - 2))}`]);
    });
  });

  it('C-encoded frames decode in TS, byte-identical to the TS encoding', () => {
    const inputs = randomInputs(prng(12), 1500);
    const out = batch(inputs.map(cEncodeCommand));
    expect(out.length).toBe(inputs.length);
    inputs.forEach((f, i) => {
      expect(out[i]!.startsWith('W ')).toBe(true);
      const wire = unhex(out[i]!.slice(2));
      expect(hex(wire)).toBe(hex(encodeFrame(f)));
      const r = decodeFrame(wire);
      const want = decodeFrame(encodeFrame(f));
      expect(r.ok && want.ok).toBe(true);
      expect(r).toEqual(want);
    });
  });

  it('C and TS decoders report the same events on corrupted and random streams', () => {
    const r = prng(13);
    const streams: Buffer[] = [];
    for (let i = 0; i < 600; i++) {
      const parts: Buffer[] = randomInputs(r, r.int(1, 4)).map((f) => Buffer.from(encodeFrame(f)));
      for (let k = r.int(1, 3); k > 0; k--) {
        const p = parts[r.int(0, parts.length - 1)]!;
        p[r.int(0, p.length - 1)]! ^= 1 << r.int(0, 7);
      }
      if (r.next() < 0.3) parts.push(r.bytes(r.int(1, 700), 0.01), Buffer.from([0]));
      if (r.next() < 0.2) parts.unshift(r.bytes(r.int(1, 40), 0.05));
      streams.push(Buffer.concat(parts));
    }
    // Frames with a valid CRC but bad content, built at the raw level.
    streams.push(
      encodeRawFrame({ version: 1, type: FrameType.Data, seq: 1, payload: Buffer.from([1, 0x2b, 0xf6]) }),
    );
    streams.push(encodeRawFrame({ version: 3, type: FrameType.Ping, seq: 2, payload: Buffer.alloc(0) }));
    streams.push(encodeRawFrame({ version: 1, type: 0x44, seq: 3, payload: Buffer.alloc(0) }));
    streams.push(encodeRawFrame({ version: 1, type: FrameType.Ping, seq: 4, payload: Buffer.alloc(600, 1) }));
    const c = decodeInC(streams);
    let errors = 0;
    streams.forEach((s, i) => {
      const ts = decodeInTs(s);
      expect(c[i]).toEqual(ts);
      errors += ts.filter((l) => l.startsWith('R ')).length;
    });
    expect(errors).toBeGreaterThan(600);
  });

  it('C and TS agree on CBOR well-formedness and topic validity', () => {
    const r = prng(14);
    const heads = [
      0x00, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xbf,
    ];
    const more = [0xc0, 0xd8, 0xdf, 0xf4, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xff, 0x01, 0x02, 0x61, 0x41, 0x20];
    const cbor: Buffer[] = [];
    for (let i = 0; i < 4000; i++) {
      const n = r.int(0, 14);
      cbor.push(
        Buffer.from(
          Array.from({ length: n }, () => (r.next() < 0.7 ? r.pick([...heads, ...more]) : r.int(0, 255))),
        ),
      );
    }
    // real encodings (definite) and mutations of them: truncated, a byte changed, extra bytes
    for (let i = 0; i < 3000; i++) {
      const f = randomFrame(r);
      if (f.type !== FrameType.Data && f.type !== FrameType.Command) continue;
      const b = Buffer.from(f.body);
      const m = r.int(0, 3);
      if (m === 1) cbor.push(b.subarray(0, r.int(0, b.length - 1)));
      else if (m === 2) {
        b[r.int(0, b.length - 1)] = r.pick([...heads, ...more]);
        cbor.push(b);
      } else if (m === 3) cbor.push(Buffer.concat([b, Buffer.from([r.pick(more)])]));
      else cbor.push(b);
    }
    for (let d = 14; d <= 18; d++) cbor.push(Buffer.concat([Buffer.alloc(d, 0x81), Buffer.from([0x80])]));
    const cOut = batch(cbor.map((b) => `C ${hexOr(b)}`));
    let wellFormed = 0;
    cbor.forEach((b, i) => {
      const ts = cborWellFormed(b);
      expect([hex(b), cOut[i]]).toEqual([hex(b), ts ? '1' : '0']);
      if (ts) wellFormed++;
    });
    expect(wellFormed).toBeGreaterThan(500);

    const alphabet = [
      0x61, 0x2f, 0x2b, 0x23, 0x00, 0x80, 0xbf, 0xc2, 0xc0, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xa0, 0x90,
    ];
    const topics = Array.from({ length: 4000 }, () =>
      Buffer.from(Array.from({ length: r.int(0, 6) }, () => r.pick(alphabet))),
    );
    const kOut = batch(topics.map((t) => `K ${hexOr(t)}`));
    topics.forEach((t, i) => {
      expect([hex(t), kOut[i]]).toEqual([hex(t), isValidTopicSuffix(t) ? '1' : '0']);
    });
  });

  it('example_device over a pipe: HELLO, retransmit with the same seq, wrap-around, busy, not-hello, commands', async () => {
    const dev = spawn(
      deviceBin,
      ['-n', '3', '-i', '20', '-t', '300', '-B', '100', '-l', '700', '-s', '65534', '-d', 'sim-1', '-'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    dev.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const link = new Link((b) => dev.stdin!.write(b));
    dev.stdout!.on('data', (c: Buffer) => link.feed(c));
    try {
      const hello = await link.frame(FrameType.Hello, 65534);
      expect(hello.type === FrameType.Hello && hello.hello).toEqual({
        deviceId: 'sim-1',
        firmware: 'example-1.0',
        capabilities: ['cmd'],
        maxFrame: 512,
      });
      link.send({ type: FrameType.Ack, seq: 65534 });

      // No ACK: the device retransmits the identical frame after its timeout.
      const d1 = await link.frame(FrameType.Data, 65535);
      const t1 = Date.now();
      const d1again = await link.frame(FrameType.Data, 65535);
      expect(Date.now() - t1).toBeGreaterThanOrEqual(200);
      expect(d1again).toEqual(d1);
      expect(d1.type === FrameType.Data && d1.topic).toBe('demo/reading');
      expect(Object.fromEntries(readingBody(d1))).toEqual({ n: 0, t: 20.5, ok: true, unit: 'C' });
      link.send({ type: FrameType.Ack, seq: 65535 });

      // seq wraps to 0; NACK busy -> same seq again after the back-off
      const d2 = await link.frame(FrameType.Data, 0);
      link.send({ type: FrameType.Nack, seq: 0, reason: NackReason.Busy });
      const t2 = Date.now();
      expect(await link.frame(FrameType.Data, 0)).toEqual(d2);
      expect(Date.now() - t2).toBeGreaterThanOrEqual(80);
      link.send({ type: FrameType.Ack, seq: 0 });

      // NACK not-hello -> new HELLO (next seq), then the pending DATA with its old seq
      await link.frame(FrameType.Data, 1);
      link.send({ type: FrameType.Nack, seq: 1, reason: NackReason.NotHello });
      await link.frame(FrameType.Hello, 2);
      link.send({ type: FrameType.Ack, seq: 2 });
      const d3 = await link.frame(FrameType.Data, 1);
      expect(readingBody(d3).get('n')).toBe(2);
      link.send({ type: FrameType.Ack, seq: 1 });

      // COMMAND, then its duplicate: both ACKed, executed once
      const cmd: FrameInput = {
        type: FrameType.Command,
        seq: 0x8001,
        topic: 'led/set',
        body: encodeCbor({ on: true }),
      };
      link.send(cmd);
      await link.frame(FrameType.Ack, 0x8001);
      link.send(cmd);
      await link.frame(FrameType.Ack, 0x8001);
      link.send({ type: FrameType.Ping, seq: 77 });
      await link.frame(FrameType.Pong, 77);

      // a truncated frame flushed by 0x00 is dropped silently (too short to NACK); the link resynchronises
      link.sendRaw(
        Buffer.concat([encodeFrame({ type: FrameType.Ping, seq: 1 }).subarray(0, 3), Buffer.from([0])]),
      );
      link.send({ type: FrameType.Ack, seq: 9999 }); // stale ACK: ignored
      link.send({ type: FrameType.Ping, seq: 2 });
      await link.frame(FrameType.Pong, 2);
      // valid CRC but an invalid topic -> NACK bad-topic
      link.sendRaw(
        encodeRawFrame({
          version: 1,
          type: FrameType.Command,
          seq: 0x8003,
          payload: Buffer.from([1, 0x2b, 0xf6]),
        }),
      );
      const nackTopic = await link.frame(FrameType.Nack, 0x8003);
      expect(nackTopic.type === FrameType.Nack && nackTopic.reason).toBe(NackReason.BadTopic);
      // damaged CRC -> NACK bad-crc carrying the received seq
      const raw = serializeFrame({ type: FrameType.Command, seq: 0x8002, topic: 'x', body: encodeCbor(1) });
      raw[raw.length - 1]! ^= 0x10;
      link.sendRaw(cobsEncode(raw, true));
      const nackCrc = await link.frame(FrameType.Nack, 0x8002);
      expect(nackCrc.type === FrameType.Nack && nackCrc.reason).toBe(NackReason.BadCrc);

      expect(await exitOf(dev)).toBe(0);
      expect(stderr.match(/^COMMAND .*$/gm)).toEqual(['COMMAND seq=32769 topic=led/set body=a1626f6ef5']);
      expect(stderr).toMatch(/rx COMMAND seq=32769 duplicate/);
      expect(stderr).toMatch(/no answer for DATA seq=65535 within 300 ms \(try 1\/5\)/);
      expect(link.stats.resyncs).toBe(0);
    } finally {
      if (dev.exitCode === null) dev.kill();
    }
  }, 20_000);

  it('example_device gives up after the bounded number of tries when nothing answers', async () => {
    const dev = spawn(deviceBin, ['-n', '1', '-t', '30', '-r', '3', '-p', '50', '-P', '2', '-s', '10', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const link = new Link(() => {});
    dev.stdout!.on('data', (c: Buffer) => link.feed(c));
    const seen: string[] = [];
    try {
      for (let i = 0; i < 3; i++) seen.push(`${(await link.frame(FrameType.Hello, 10)).seq}`);
      await link.frame(FrameType.Ping);
      await link.frame(FrameType.Ping);
      expect(await exitOf(dev)).toBe(2);
      expect(seen).toEqual(['10', '10', '10']);
    } finally {
      if (dev.exitCode === null) dev.kill();
    }
  }, 20_000);

  it.skipIf(!hasSocat)(
    'example_device over a PTY pair (socat)',
    async () => {
      const devPath = join(dir, 'ttyDevice');
      const hostPath = join(dir, 'ttyHost');
      const socat = spawn('socat', [`pty,raw,echo=0,link=${devPath}`, `pty,raw,echo=0,link=${hostPath}`], {
        stdio: 'ignore',
      });
      let dev: ChildProcess | undefined;
      let fd = -1;
      let reader: ReadStream | undefined;
      try {
        const until = Date.now() + 5000;
        while (!(existsSync(devPath) && existsSync(hostPath))) {
          if (Date.now() > until) throw new Error('socat did not create the PTYs');
          await new Promise((r) => setTimeout(r, 20));
        }
        fd = openSync(hostPath, constants.O_RDWR | constants.O_NOCTTY);
        const link = new Link((b) => {
          let off = 0;
          while (off < b.length) {
            try {
              off += writeSync(fd, b, off);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
            }
          }
        });
        reader = new ReadStream(fd);
        reader.on('data', (c: Buffer | string) => link.feed(Buffer.from(c)));
        reader.on('error', () => {});
        let stdout = '';
        dev = spawn(
          deviceBin,
          ['-n', '2', '-i', '10', '-t', '300', '-l', '600', '-s', '100', '-d', 'pty-dev', devPath],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        dev.stdout!.on('data', (c: Buffer) => {
          stdout += c.toString();
        });
        const hello = await link.frame(FrameType.Hello, 100);
        expect(hello.type === FrameType.Hello && hello.hello.deviceId).toBe('pty-dev');
        link.send({ type: FrameType.Ack, seq: 100 });
        await link.frame(FrameType.Data, 101);
        link.send({ type: FrameType.Ack, seq: 101 });
        link.send({ type: FrameType.Command, seq: 5, topic: 'valve/open', body: encodeCbor({ pct: 40 }) });
        // the next DATA and the ACK of the COMMAND may come in either order
        const got = [await link.next(), await link.next()].map((r) =>
          r.ok ? `${r.frame.type}:${r.frame.seq}` : r.reason,
        );
        expect(got.sort()).toEqual([`${FrameType.Data}:102`, `${FrameType.Ack}:5`].sort());
        link.send({ type: FrameType.Ack, seq: 102 });
        expect(await exitOf(dev)).toBe(0);
        expect(stdout).toContain(`COMMAND seq=5 topic=valve/open body=${hex(encodeCbor({ pct: 40 }))}`);
      } finally {
        if (dev && dev.exitCode === null) dev.kill();
        reader?.destroy();
        if (fd >= 0 && !reader) closeSync(fd);
        socat.kill();
        await exitOf(socat).catch(() => null);
      }
    },
    20_000,
  );
});
