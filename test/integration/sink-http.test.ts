/**
 * The HTTP sink against a real local HTTP server: 2xx acknowledges, 429/5xx
 * are retried honouring Retry-After, other 4xx dead-letter the batch with the
 * reason, and an outage of the endpoint loses nothing.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { decode as cborDecode } from 'cbor-x';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import type { RecordEnvelope } from '../../gateway/src/contracts/record.js';
import { parseRetryAfter } from '../../gateway/src/forward/sinks/http/sink.js';
import { startInProcess, until } from '../support/in-process.js';
import { freePort } from '../support/ports.js';

interface Seen {
  at: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Reply = (n: number) => { status: number; headers?: Record<string, string>; body?: string };

async function endpoint(reply: Reply, port?: number) {
  const seen: Seen[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks) });
      const r = reply(n++);
      res.writeHead(r.status, r.headers);
      res.end(r.body ?? '');
    });
  });
  const p = port ?? (await freePort());
  await new Promise<void>((r) => server.listen(p, '127.0.0.1', () => r()));
  return {
    seen,
    port: p,
    url: `http://127.0.0.1:${p}/ingest`,
    close: () => new Promise((r) => server.close(r)),
  };
}

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function publish(gw: Gateway, device: string, n: number, from = 0) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, {
    clientId: device,
    reconnectPeriod: 0,
  });
  for (let i = from; i < from + n; i++)
    await c.publishAsync(`devices/${device}/t`, JSON.stringify({ i }), { qos: 1 });
  await c.endAsync();
}

function records(s: Seen): RecordEnvelope[] {
  let body = s.body;
  if (s.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  if (s.headers['content-type'] === 'application/cbor') return cborDecode(body) as RecordEnvelope[];
  if (s.headers['content-type'] === 'application/x-ndjson') {
    return body
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RecordEnvelope);
  }
  return JSON.parse(body.toString()) as RecordEnvelope[];
}

function sink(url: string, extra: Record<string, unknown> = {}) {
  return {
    sinks: { api: { type: 'http', url, retry: { initialDelay: 20, maxDelay: 100, jitter: 0 }, ...extra } },
    routes: { all: { from: '#', to: 'api' } },
  };
}

describe('HTTP sink', () => {
  it.each(['json', 'ndjson', 'cbor'] as const)(
    'POSTs %s batches with the token and headers, gzip when asked',
    async (format) => {
      const ep = await endpoint(() => ({ status: 204 }));
      cleanup.push(ep.close);
      const gw = await startInProcess(
        sink(ep.url, {
          format,
          gzip: format !== 'json',
          bearerToken: 'tok-123',
          headers: { 'x-site': 'north' },
        }),
      );
      cleanup.push(() => gw.stop());
      await publish(gw, 'h1', 25);
      await until(() => ep.seen.flatMap(records).length >= 25);
      const got = ep.seen.flatMap(records);
      expect(got.map((r) => (r.payload as { i: number }).i)).toEqual([...Array(25).keys()]);
      expect(got[0]).toMatchObject({ deviceId: 'h1', topic: 'devices/h1/t', gatewayId: 'tidegate' });
      const h = ep.seen[0]!.headers;
      expect(h.authorization).toBe('Bearer tok-123');
      expect(h['x-site']).toBe('north');
      expect(h['content-encoding']).toBe(format === 'json' ? undefined : 'gzip');
    },
  );

  it('retries 503 and 429 after the Retry-After the server asked for, then delivers', async () => {
    const ep = await endpoint((n) =>
      n === 0
        ? { status: 503, headers: { 'retry-after': '1' } }
        : n === 1
          ? { status: 429, headers: { 'retry-after': '1' } }
          : { status: 200 },
    );
    cleanup.push(ep.close);
    const gw = await startInProcess(sink(ep.url));
    cleanup.push(() => gw.stop());
    await publish(gw, 'h2', 3);
    await until(async () => (await gw.snapshot()).sinks[0]!.backlogMessages === 0, 10_000);
    expect(ep.seen[1]!.at - ep.seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(ep.seen[2]!.at - ep.seen[1]!.at).toBeGreaterThanOrEqual(950);
    expect(records(ep.seen.at(-1)!).length + records(ep.seen.at(-2)!).length).toBeGreaterThanOrEqual(3);
  });

  it('dead-letters a batch the endpoint refuses with 400, with the reason, and goes on', async () => {
    const ep = await endpoint((n) =>
      n === 0 ? { status: 400, body: 'field "t" missing' } : { status: 200 },
    );
    cleanup.push(ep.close);
    const gw = await startInProcess(sink(ep.url, { batch: { linger: '300ms' } }));
    cleanup.push(() => gw.stop());
    await publish(gw, 'h3', 4);
    await until(async () => (await gw.snapshot()).sinks[0]!.backlogMessages === 0, 10_000);
    await publish(gw, 'h3', 2, 4);
    await until(() => ep.seen.length >= 2);
    const snap = await gw.snapshot();
    expect(snap.sinks[0]!.dropped.dead_lettered).toBe(4);
    const db = new Database(join(gw.config.dataDir, 'tidegate.db'), { readonly: true });
    const rows = db.prepare('SELECT reason, stage, sink, device FROM dead_letters').all() as Array<
      Record<string, string>
    >;
    db.close();
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({ stage: 'sink', sink: 'api', device: 'h3' });
    expect(rows[0]!.reason).toContain('HTTP 400');
    expect(rows[0]!.reason).toContain('field "t" missing');
    expect(records(ep.seen[1]!).map((r) => (r.payload as { i: number }).i)).toEqual([4, 5]);
  });

  it('keeps everything through an endpoint outage and delivers it in order when it returns', async () => {
    const port = await freePort();
    let ep = await endpoint(() => ({ status: 200 }), port);
    const gw = await startInProcess(sink(ep.url));
    cleanup.push(() => gw.stop());
    await publish(gw, 'h4', 10);
    await until(() => ep.seen.flatMap(records).length >= 10);
    const before = ep.seen.flatMap(records);
    await ep.close();
    await publish(gw, 'h4', 40, 10);
    const s = await until(async () => {
      const snap = await gw.snapshot();
      return snap.sinks[0]!.lastError?.includes('cannot reach') ? snap.sinks[0] : null;
    });
    expect(s.backlogMessages).toBeGreaterThan(0);
    ep = await endpoint(() => ({ status: 200 }), port);
    cleanup.push(ep.close);
    await until(async () => (await gw.snapshot()).sinks[0]!.backlogMessages === 0, 10_000);
    const all = [...before, ...ep.seen.flatMap(records)].map((r) => (r.payload as { i: number }).i);
    expect(all.filter((v, i) => all.indexOf(v) === i)).toEqual([...Array(50).keys()]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
