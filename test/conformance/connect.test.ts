/**
 * MQTT 3.1.1 CONNECT / CONNACK rules, checked on raw sockets against tidegate
 * and, as the reference, Mosquitto on 127.0.0.1:1883. Each test names the
 * normative statement it checks; where the two differ the test says which is
 * right per the spec.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { startInProcess } from '../support/in-process.js';
import { connectPacket, PINGRESP, publishPacket, RawClient } from './raw.js';

let gw: Gateway;
const opened: RawClient[] = [];
beforeAll(async () => {
  gw = await startInProcess();
});
afterAll(async () => {
  for (const c of opened) c.close();
  await gw.stop();
});

const brokers = [
  ['tidegate', () => gw.broker.port],
  ['mosquitto', () => 1883],
] as const;

async function open(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  opened.push(c);
  return c;
}
const id = () => `conf-${randomUUID().slice(0, 8)}`;

describe.each(brokers)('%s: CONNECT and CONNACK', (name, port) => {
  it('[MQTT-3.1.3-8] refuses an empty client id with clean session 0: CONNACK 2, then closes', async () => {
    const c = await open(port());
    c.send(connectPacket({ clientId: '', clean: false }));
    // aedes 1.2.0 alone accepts it and invents an id; tidegate refuses it as Mosquitto does
    expect(await c.connack()).toEqual([0, 2]);
    expect(await c.waitClosed()).toBe(true);
  });

  it('[MQTT-3.1.3-6] [MQTT-3.1.3-7] accepts an empty client id with clean session 1', async () => {
    const c = await open(port());
    c.send(connectPacket({ clientId: '', clean: true }));
    expect(await c.connack()).toEqual([0, 0]);
  });

  it('[MQTT-3.1.0-1] closes a connection whose first packet is not CONNECT', async () => {
    const c = await open(port());
    c.send(publishPacket('conf/early', 'x'));
    expect(await c.connack(1000)).toBeNull();
    expect(await c.waitClosed()).toBe(true);
  });

  it('[MQTT-3.1.0-2] closes the connection on a second CONNECT', async () => {
    const c = await open(port());
    const clientId = id();
    c.send(connectPacket({ clientId }));
    expect(await c.connack()).toEqual([0, 0]);
    c.send(connectPacket({ clientId }));
    expect(await c.waitClosed()).toBe(true);
  });

  it('[MQTT-3.1.2-2] answers an unsupported protocol level with CONNACK 1 and closes', async () => {
    const c = await open(port());
    c.send(connectPacket({ clientId: id(), protocolLevel: 9 }));
    expect(await c.connack()).toEqual([0, 1]);
    expect(await c.waitClosed()).toBe(true);
  });

  it('[MQTT-3.1.2-3] closes the connection when the reserved CONNECT flag is set', async () => {
    const c = await open(port());
    c.send(connectPacket({ clientId: id(), reservedFlag: true }));
    expect(await c.connack(1000)).toBeNull();
    expect(await c.waitClosed()).toBe(true);
  });

  it('[MQTT-3.2.2-1] [MQTT-3.2.2-2] session present is 0 for a new or clean session, 1 for a resumed one', async () => {
    const clientId = id();
    const a = await open(port());
    a.send(connectPacket({ clientId, clean: false }));
    expect(await a.connack()).toEqual([0, 0]);
    // a subscription makes the session worth keeping
    a.send(Buffer.from([0x82, 0x0b, 0x00, 0x01, 0x00, 0x06, ...Buffer.from('conf/s'), 0x01]));
    expect(await a.next(9)).not.toBeNull();
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const b = await open(port());
    b.send(connectPacket({ clientId, clean: false }));
    expect(await b.connack()).toEqual([1, 0]);
    b.close();
    const c = await open(port());
    c.send(connectPacket({ clientId, clean: true }));
    expect(await c.connack()).toEqual([0, 0]);
  });

  it('[MQTT-3.1.4-2] a second connection with the same client id disconnects the first', async () => {
    const clientId = id();
    const a = await open(port());
    a.send(connectPacket({ clientId }));
    expect(await a.connack()).toEqual([0, 0]);
    const b = await open(port());
    b.send(connectPacket({ clientId }));
    expect(await b.connack()).toEqual([0, 0]);
    expect(await a.waitClosed()).toBe(true);
    expect(b.closed).toBe(false);
  });

  it('[MQTT-3.1.2-24] closes a connection silent for 1.5 x keep-alive; [MQTT-3.12.4-1] answers PINGREQ', async () => {
    const c = await open(port());
    c.send(connectPacket({ clientId: id(), keepalive: 1 }));
    expect(await c.connack()).toEqual([0, 0]);
    c.send(Buffer.from([0xc0, 0x00]));
    expect(await c.next(PINGRESP)).not.toBeNull();
    const t0 = Date.now();
    // The spec says within 1.5 s here. tidegate (aedes) closes at 1.5 s: right per spec.
    // Mosquitto 2.0.11 checks keep-alives on a coarse timer and closed after 5.8 s when
    // measured on this machine: late per [MQTT-3.1.2-24]; we only require that it closes.
    const limit = name === 'tidegate' ? 2500 : 9000;
    expect(await c.waitClosed(limit)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('[MQTT-3.3.2-2] closes the connection on a PUBLISH whose topic holds a wildcard', async () => {
    const c = await open(port());
    c.send(connectPacket({ clientId: id() }));
    expect(await c.connack()).toEqual([0, 0]);
    c.send(publishPacket('conf/+/bad', 'x', 1, 7));
    expect(await c.next(4, 1000)).toBeNull();
    expect(await c.waitClosed()).toBe(true);
  });
});

describe('tidegate: CONNECT gaps closed beyond aedes', () => {
  it('refuses a keep-alive above mqtt.limits.maxKeepAlive with CONNACK 2 (as Mosquitto max_keepalive does)', async () => {
    const strict = await startInProcess({ mqtt: { limits: { maxKeepAlive: '60s' } } });
    try {
      const c = await open(strict.broker.port);
      c.send(connectPacket({ clientId: id(), keepalive: 600 }));
      expect(await c.connack()).toEqual([0, 2]);
      const ok = await open(strict.broker.port);
      ok.send(connectPacket({ clientId: id(), keepalive: 30 }));
      expect(await ok.connack()).toEqual([0, 0]);
      const refused = await strict.registry.getSingleMetricAsString('tidegate_mqtt_refused_total');
      expect(refused).toContain('what="connect",reason="keep_alive"} 1');
    } finally {
      await strict.stop();
    }
  });
  it('counts the refused empty client id', async () => {
    const m = await gw.registry.getSingleMetricAsString('tidegate_mqtt_refused_total');
    expect(m).toMatch(/what="connect",reason="empty_client_id"} [1-9]/);
  });
  it('keeps serving after all of the above', async () => {
    const c = await open(gw.broker.port);
    c.send(connectPacket({ clientId: id() }));
    expect(await c.connack()).toEqual([0, 0]);
  });
});
