/**
 * The machine interfaces: /metrics (parsed as Prometheus text) agrees with
 * /api/status; the token gate; CSRF-protected admin actions; and the CPU the
 * status endpoints cost when polled every second (printed, not asserted).
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../gateway/src/status/snapshot.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { type PromFamily as Family, parsePrometheus } from '../support/prometheus.js';

let gw: GatewayProcess;
const base = () => `http://127.0.0.1:${gw.statusPort}`;
const auth = () => ({ authorization: `Bearer ${gw.token}` });

async function metrics(): Promise<Family[]> {
  const text = await (await fetch(`${base()}/metrics`, { headers: auth() })).text();
  return parsePrometheus(text);
}
function value(fams: Family[], name: string, labels: Record<string, string> = {}): number {
  const f = fams.find((x) => x.name === name);
  return (f?.metrics ?? [])
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((a, m) => a + Number(m.value ?? 0), 0);
}
async function status(): Promise<StatusSnapshot> {
  return (await (await fetch(`${base()}/api/status`, { headers: auth() })).json()) as StatusSnapshot;
}

beforeAll(async () => {
  gw = await startGateway({
    sinks: { archive: { type: 'file' }, tiny: { type: 'file', queue: { maxBytes: 2000 }, path: 'tiny' } },
    routes: { a: { from: '#', to: 'archive' }, t: { from: 'devices/#', to: 'tiny' } },
  });
});
afterAll(async () => {
  await gw?.stop();
});

describe('status API', () => {
  it('keeps the page and the APIs behind the token, and /healthz and /readyz open', async () => {
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
    for (const p of ['/api/status', '/metrics', '/api/events', '/api/session', '/api/devices', '/']) {
      expect((await fetch(`${base()}${p}`)).status).toBe(401);
      expect((await fetch(`${base()}${p}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    }
    expect((await fetch(`${base()}/api/status`, { headers: auth() })).status).toBe(200);
  });

  it('exposes in /metrics every counter the page shows, with the same values as /api/status', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      clientId: 'm-dev',
      reconnectPeriod: 0,
    });
    for (let i = 0; i < 30; i++)
      await c.publishAsync(i % 2 ? 'devices/m-dev/t' : 'other/t', 'x'.repeat(100), { qos: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const [s, m] = [await status(), await metrics()];
    expect(s.received).toBe(value(m, 'tidegate_messages_received_total'));
    expect(s.received).toBe(45);
    expect(s.clientsConnected).toBe(value(m, 'tidegate_clients_connected'));
    for (const r of s.routes) {
      expect(r.matched).toBe(value(m, 'tidegate_messages_received_total', { route: r.name }));
      for (const outcome of ['passed', 'filtered', 'failed'] as const) {
        expect(r[outcome]).toBe(value(m, 'tidegate_route_messages_total', { route: r.name, outcome }));
      }
      expect(r.passed + r.filtered + r.failed).toBe(r.matched);
    }
    for (const sink of s.sinks) {
      expect(sink.sent).toBe(value(m, 'tidegate_messages_sent_total', { sink: sink.name }));
      expect(sink.queued).toBe(value(m, 'tidegate_messages_queued_total', { sink: sink.name }));
      expect(sink.backlogBytes).toBe(value(m, 'tidegate_queue_bytes', { sink: sink.name }));
      expect(sink.backlogMessages).toBe(value(m, 'tidegate_queue_messages', { sink: sink.name }));
      for (const [reason, n] of Object.entries(sink.dropped)) {
        expect(n).toBe(value(m, 'tidegate_messages_dropped_total', { sink: sink.name, reason }));
      }
    }
    await c.endAsync();
  });

  it('pauses and resumes a sink only with the token, the CSRF token and a same-origin request', async () => {
    const { csrfToken } = (await (await fetch(`${base()}/api/session`, { headers: auth() })).json()) as {
      csrfToken: string;
    };
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${base()}${path}`, { method: 'POST', headers });
    expect((await post('/api/sinks/archive/pause', auth())).status).toBe(403);
    expect((await post('/api/sinks/archive/pause', { ...auth(), 'x-csrf-token': 'guess' })).status).toBe(403);
    expect(
      (
        await post('/api/sinks/archive/pause', {
          ...auth(),
          'x-csrf-token': csrfToken,
          origin: 'http://evil.example',
        })
      ).status,
    ).toBe(403);
    expect((await post('/api/sinks/archive/pause', { 'x-csrf-token': csrfToken })).status).toBe(401);
    expect((await post('/api/sinks/archive/pause', { ...auth(), 'x-csrf-token': csrfToken })).status).toBe(
      200,
    );
    expect((await status()).sinks.find((x) => x.name === 'archive')!.state).toBe('paused');
    expect((await post('/api/sinks/nope/pause', { ...auth(), 'x-csrf-token': csrfToken })).status).toBe(404);
    expect((await post('/api/sinks/archive/resume', { ...auth(), 'x-csrf-token': csrfToken })).status).toBe(
      200,
    );
    expect((await status()).sinks.find((x) => x.name === 'archive')!.state).not.toBe('paused');
  });

  it('costs little CPU when polled every second (measured, printed)', async () => {
    const cpu = () => {
      const f = readFileSync(`/proc/${gw.proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, clock ticks of 10 ms
    };
    const window = 5000;
    const idle0 = cpu();
    await new Promise((r) => setTimeout(r, window));
    const idle = cpu() - idle0;
    const busy0 = cpu();
    const end = Date.now() + window;
    let polls = 0;
    while (Date.now() < end) {
      await Promise.all([
        fetch(`${base()}/api/status`, { headers: auth() }),
        fetch(`${base()}/metrics`, { headers: auth() }),
      ]);
      polls++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const busy = cpu() - busy0;
    console.log(
      `status endpoints: idle ${idle} ms CPU per ${window} ms, polled (/api/status + /metrics each second, ${polls} polls) ${busy} ms: ${(((busy - idle) / window) * 100).toFixed(2)}% of one core`,
    );
    expect(polls).toBeGreaterThanOrEqual(4);
  });
});
