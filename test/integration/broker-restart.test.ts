/**
 * Persistence across restarts with the real gateway process: retained messages
 * and a persistent session's offline QoS 1 messages are delivered after the
 * gateway restarts, after a clean SIGTERM and after kill -9.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlitePersistence } from '../../gateway/src/broker/persistence.js';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { freePort } from '../support/ports.js';

const clients: MqttClient[] = [];
const gateways: GatewayProcess[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const g of gateways.splice(0)) await g.kill();
});

async function open(port: number, opts: mqtt.IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...opts });
  clients.push(c);
  return c;
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('broker: state survives a restart after %s', (signal) => {
  it('delivers retained messages and offline QoS 1 messages of a persistent session after the restart', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const config = { mqtt: { port } };
    let gw = await startGateway(config, { dataDir });
    gateways.push(gw);

    // a persistent session subscribes, then goes offline
    const sub = await open(port, { clientId: 'keeper', clean: false });
    await sub.subscribeAsync('plant/+/alarm', { qos: 1 });
    sub.end(true);

    const pub = await open(port, { clientId: 'pub' });
    await pub.publishAsync('plant/config', 'v42', { qos: 1, retain: true });
    for (let i = 0; i < 5; i++) await pub.publishAsync(`plant/${i}/alarm`, `a${i}`, { qos: 1 });
    pub.end(true);

    if (signal === 'SIGTERM') await gw.stop();
    else await gw.kill('SIGKILL');
    gateways.pop();
    gw = await startGateway(config, { dataDir });
    gateways.push(gw);

    const got: string[] = [];
    const back = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'keeper',
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(back);
    back.on('message', (t, p) => got.push(`${t}=${p}`));
    const connack = await new Promise<{ sessionPresent: boolean }>((r) => back.once('connect', r));
    expect(connack.sessionPresent).toBe(true);
    await until(() => got.length >= 5, 10_000, 'offline messages').catch((err: Error) => {
      throw new Error(`${err.message}; got ${JSON.stringify(got)}; log:\n${gw.logs.slice(-8).join('\n')}`);
    });
    expect(got).toEqual([0, 1, 2, 3, 4].map((i) => `plant/${i}/alarm=a${i}`));

    const fresh = await open(port, { clientId: 'fresh' });
    const retained = new Promise<string>((r) =>
      fresh.once('message', (t, p, packet) => r(`${t}=${p} retain=${packet.retain}`)),
    );
    await fresh.subscribeAsync('plant/config', { qos: 1 });
    expect(await retained).toBe('plant/config=v42 retain=true');
  });
});

describe('session store: a crash after aedes queued a journaled publish', () => {
  // The SIGKILL test above failed 2 in 20 runs under CPU load with a4 delivered twice: the kill
  // landed after aedes had queued a4 for the offline session but before the journal row was
  // settled, and the replay at start queued it again. This drives that window deterministically.
  it('replays only the journaled publishes that were not yet queued, so none arrives twice', async () => {
    const file = join(tempDir(), 'tidegate.db');
    const before = new SqlitePersistence({ file, maxQueuedPerClient: 100 });
    await before.setup({ id: 'run-1' });
    await before.addSubscriptions({ id: 'keeper', clean: false }, [{ topic: 'plant/+/alarm', qos: 1 }]);
    const queued = { topic: 'plant/1/alarm', payload: Buffer.from('a1'), qos: 1, retain: false };
    const notYet = { topic: 'plant/2/alarm', payload: Buffer.from('a2'), qos: 1, retain: false };
    expect(before.journal(queued)).not.toBeNull();
    expect(before.journal(notYet)).not.toBeNull();
    // aedes queues a1 (as its enqueueOffline step does), then the process dies: no `published` hook
    await before.outgoingEnqueueCombi([{ clientId: 'keeper' }], {
      cmd: 'publish',
      ...queued,
      brokerId: 'run-1',
      brokerCounter: 1,
    });
    await before.destroy();

    const after = new SqlitePersistence({ file, maxQueuedPerClient: 100 });
    await after.setup({ id: 'run-2' });
    const topics: string[] = [];
    for await (const p of after.outgoingStream({ id: 'keeper' })) topics.push(`${p.topic}=${p.payload}`);
    await after.destroy();
    expect(topics).toEqual(['plant/1/alarm=a1', 'plant/2/alarm=a2']);
  });
});
