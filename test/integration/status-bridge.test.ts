/**
 * The serial bridge's ports through the gateway's /api/bridge: the real
 * gateway (child process), the real bridge (in this process) serving its own
 * status on a real port, a simulated device on a kernel PTY (socat).
 * Before the bridge runs, while it runs, after it stops; plus answers that
 * are not a bridge status and a gateway with no bridge configured.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bridge } from '../../firmware-bridge/src/bridge.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { totalsOf } from '../../firmware-bridge/src/status.js';
import { asBridgeDoc, BridgeStatusReader, type BridgeView } from '../../gateway/src/status/bridge.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { freePort } from '../support/ports.js';
import { parsePrometheus } from '../support/prometheus.js';
import { gatewayConfig, mqttUrl, startBridge, waitFor } from './bridge-harness.js';

function serve(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const s = createServer(handler);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/status`;

let gw: GatewayProcess;
let bridgePort: number;

async function api(path: string, token = gw.token): Promise<Response> {
  return fetch(`http://127.0.0.1:${gw.statusPort}${path}`, { headers: { authorization: `Bearer ${token}` } });
}
const bridgeView = async () => (await (await api('/api/bridge')).json()) as BridgeView;

async function errorCount(code: string): Promise<number> {
  const families = parsePrometheus(await (await api('/metrics')).text());
  const errors = families.find((f) => f.name === 'tidegate_errors_total');
  const m = errors?.metrics.find((x) => x.labels?.stage === 'status' && x.labels?.code === code);
  return m?.value !== undefined ? Number(m.value) : 0;
}

beforeAll(async () => {
  bridgePort = await freePort();
  gw = await startGateway({
    ...gatewayConfig,
    status: { bridgeStatusUrl: `http://127.0.0.1:${bridgePort}/status` },
  });
});
afterAll(async () => {
  await gw?.stop();
});

describe('the serial bridge on the status API', () => {
  it('needs the token', async () => {
    expect((await api('/api/bridge', 'wrong-token-wrong-token')).status).toBe(401);
  });

  it('says in words that the bridge is not running, counts it, then shows its ports, then keeps them marked unreachable', async () => {
    const before = await bridgeView();
    expect(before).toMatchObject({ configured: true, reachable: false, status: null });
    expect(before.error).toContain('the bridge is not running: nothing listens at');
    expect(await errorCount('BRIDGE_UNREACHABLE')).toBeGreaterThanOrEqual(1);

    const pty = await PtyPair.open();
    let bridge: Bridge | null = null;
    let dev: SimulatedFirmware | null = null;
    try {
      bridge = await startBridge(mqttUrl(gw), [{ path: pty.hostPath, baudRate: 57600 }], {
        bridgeId: 'status-bridge',
        status: { port: bridgePort },
      });
      dev = new SimulatedFirmware({ path: pty.devicePath, deviceId: 'bridge-dev-7', ackTimeoutMs: 200 });
      await dev.open();
      expect((await dev.hello()).ok).toBe(true);
      // the gateway reuses a read for 2 s; wait until it has read the bridge with the device on its port
      const seen = await waitFor(
        'the port and its device on /api/bridge',
        async () => {
          const v = await bridgeView();
          return v.reachable && v.status?.ports[0]?.device?.id === 'bridge-dev-7' ? v : null;
        },
        15_000,
        250,
      );
      expect(seen.error).toBeNull();
      expect(seen.status?.bridgeId).toBe('status-bridge');
      expect(seen.status?.ports).toHaveLength(1);
      expect(seen.status?.ports[0]).toMatchObject({ path: pty.hostPath, state: 'open', baudRate: 57600 });
      // what the gateway relays is what the bridge itself says
      const own = (await (await fetch(`http://127.0.0.1:${bridgePort}/status`)).json()) as {
        bridgeId: string;
      };
      expect(own.bridgeId).toBe(seen.status?.bridgeId);
    } finally {
      await dev?.close();
      await bridge?.stop();
      await pty.close();
    }
    const after = await waitFor('the bridge reported unreachable', async () => {
      const v = await bridgeView();
      return v.reachable ? null : v;
    });
    expect(after.error).toContain('not running');
    // the last ports stay on the page, marked stale, so a blip does not blank the section
    expect(after.status?.ports[0]?.path).toBe(pty.hostPath);
  });
});

describe('the bridge status reader', () => {
  const errors = () => {
    const counted: string[] = [];
    return { counted, inc: (l: { stage: string; code: string }) => void counted.push(l.code) };
  };

  it('reports nothing to show when no URL is configured, and fetches nothing', async () => {
    const e = errors();
    const v = await new BridgeStatusReader(undefined, e).read();
    expect(v).toMatchObject({ configured: false, reachable: false, error: null, status: null });
    expect(e.counted).toEqual([]);
  });

  it('refuses an answer that is not a bridge status, with the field in words and a counter', async () => {
    const bodies = ['<html>router login</html>', JSON.stringify({ bridgeId: 'x', ports: 'none' })];
    for (const body of bodies) {
      const s = await serve((_req, res) => res.end(body));
      try {
        const e = errors();
        const v = await new BridgeStatusReader(urlOf(s), e).read();
        expect(v.reachable).toBe(false);
        expect(v.error).toContain("answered, but not with the bridge's status");
        expect(e.counted).toEqual(['BRIDGE_STATUS_INVALID']);
      } finally {
        await new Promise((r) => s.close(r));
      }
    }
  });

  it('gives up on a bridge that does not answer, in words', async () => {
    const s = await serve(() => undefined); // accepts, never answers
    try {
      const e = errors();
      const v = await new BridgeStatusReader(urlOf(s), e, { timeoutMs: 200 }).read();
      expect(v.error).toBe('the bridge did not answer within 200 ms');
      expect(e.counted).toEqual(['BRIDGE_UNREACHABLE']);
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('serves many pages from one fetch while the read is fresh', async () => {
    let hits = 0;
    const doc = asBridgeDoc({
      bridgeId: 'b',
      startedAt: 0,
      uptimeSeconds: 1,
      now: 0,
      gateway: { url: 'mqtt://127.0.0.1:1', devicesConnected: 0 },
      buffer: { messages: 0, bytes: 0, maxMessages: 1, maxBytes: 1, refused: 0 },
      ackLatency: { count: 0, meanMs: null, p50Ms: null, p99Ms: null, maxMs: null },
      totals: totalsOf([]),
      ports: [],
    });
    const s = await serve((_req, res) => {
      hits++;
      res.end(JSON.stringify(doc));
    });
    try {
      let now = 1_000_000;
      const reader = new BridgeStatusReader(urlOf(s), errors(), { now: () => now, maxAgeMs: 2000 });
      const views = await Promise.all(Array.from({ length: 10 }, () => reader.read()));
      expect(views.every((v) => v.reachable && v.status?.bridgeId === 'b')).toBe(true);
      expect(hits).toBe(1);
      now += 1999;
      await reader.read();
      expect(hits).toBe(1);
      now += 2;
      await reader.read();
      expect(hits).toBe(2);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
