/**
 * TLS (node:tls), device certificates (CN = device id, CRL for revocation),
 * MQTT over WebSocket (ws and wss) and certificate reload, with mqtt.js as the
 * client and a PKI made by the openssl CLI.
 */
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { connectPacket } from '../conformance/raw.js';
import { startInProcess, until } from '../support/in-process.js';
import { makePki, type Pki } from './broker-pki.js';

const clients: MqttClient[] = [];
async function open(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}
function tlsOpts(pki: Pki, device?: string): mqtt.IClientOptions {
  const d = device ? pki.device(device) : null;
  return {
    ca: readFileSync(pki.ca),
    ...(d ? { cert: readFileSync(d.cert), key: readFileSync(d.key) } : {}),
    rejectUnauthorized: true,
  };
}
async function refusedCount(gw: Gateway, reason: string): Promise<number> {
  const m = await gw.metrics.refused.get();
  return m.values.find((v) => v.labels.what === 'connect' && v.labels.reason === reason)?.value ?? 0;
}
async function roundTrip(c: MqttClient, device: string): Promise<string> {
  await c.subscribeAsync(`devices/${device}/commands/#`, { qos: 1 });
  const got = new Promise<string>((r) => c.once('message', (t, p) => r(`${t}=${p}`)));
  await c.publishAsync(`devices/${device}/commands/ping`, 'pong', { qos: 1 });
  return got;
}

describe('broker: TLS, device certificates and WebSocket', () => {
  let pki: Pki;
  let gw: Gateway;
  beforeAll(async () => {
    pki = makePki(['dev1', 'dev2', 'stolen'], ['stolen']);
    gw = await startInProcess({
      mqtt: {
        tls: { port: 0, ...pki.server, ca: pki.ca, crl: pki.crl, clientCertificates: 'optional' },
        websocket: { port: 0, tls: true },
      },
    });
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await gw.stop();
  });

  it('a device with a valid certificate publishes and subscribes over TLS; its CN is its identity', async () => {
    const c = await open(`mqtts://127.0.0.1:${gw.broker.ports.tls}`, {
      clientId: 'dev1',
      ...tlsOpts(pki, 'dev1'),
    });
    expect(await roundTrip(c, 'dev1')).toBe('devices/dev1/commands/ping=pong');
  });

  it('the default device rule applies to certificate identities: no publishing as another device', async () => {
    const c = await open(`mqtts://127.0.0.1:${gw.broker.ports.tls}`, {
      clientId: 'dev1',
      ...tlsOpts(pki, 'dev1'),
    });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('devices/dev2/telemetry', 'spoof', { qos: 1 });
    await closed;
    const m = await gw.metrics.refused.get();
    expect(m.values.find((v) => v.labels.what === 'publish' && v.labels.reason === 'acl')?.value).toBe(1);
  });

  it('refuses a client id other than the certificate CN with CONNACK 2', async () => {
    const err = await open(`mqtts://127.0.0.1:${gw.broker.ports.tls}`, {
      clientId: 'dev2',
      ...tlsOpts(pki, 'dev1'),
    }).then(
      () => null,
      (e: { code?: number }) => e.code,
    );
    expect(err).toBe(2);
  });

  it('refuses a revoked certificate (CRL) before MQTT starts, and counts it', async () => {
    const before = await refusedCount(gw, 'bad_certificate');
    const d = pki.device('stolen');
    // raw TLS: mqtt.js never settles connectAsync when the socket closes before CONNACK
    const outcome = await new Promise<string>((resolve) => {
      const s = tlsConnect(
        {
          port: gw.broker.ports.tls!,
          host: '127.0.0.1',
          servername: 'localhost',
          ca: readFileSync(pki.ca),
          cert: readFileSync(d.cert),
          key: readFileSync(d.key),
        },
        () => s.write(connectPacket({ clientId: 'stolen' })),
      );
      let data = 0;
      s.on('data', (b) => {
        data += b.length;
      });
      s.on('error', () => {});
      s.on('close', () => resolve(data === 0 ? 'closed without CONNACK' : 'answered'));
    });
    expect(outcome).toBe('closed without CONNACK');
    await until(
      async () => (await refusedCount(gw, 'bad_certificate')) === before + 1,
      5000,
      'revocation counted',
    );
  });

  it('refuses a TLS client without certificate or credentials with CONNACK 5 (identities are on)', async () => {
    const err = await open(`mqtts://127.0.0.1:${gw.broker.ports.tls}`, {
      clientId: 'nobody',
      ...tlsOpts(pki),
    }).then(
      () => null,
      (e: { code?: number }) => e.code,
    );
    expect(err).toBe(5);
  });

  it('a device publishes and subscribes over wss:// with its certificate', async () => {
    const c = await open(`wss://127.0.0.1:${gw.broker.ports.wss}/mqtt`, {
      clientId: 'dev2',
      ...tlsOpts(pki, 'dev2'),
    });
    expect(await roundTrip(c, 'dev2')).toBe('devices/dev2/commands/ping=pong');
  });

  it('reload (SIGHUP) serves a renewed server certificate to new connections', async () => {
    const fingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect(
          {
            port: gw.broker.ports.tls!,
            host: '127.0.0.1',
            ca: readFileSync(pki.ca),
            servername: 'localhost',
          },
          () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          },
        );
        s.once('error', reject);
      });
    const before = await fingerprint();
    const renewed = pki.renewServer();
    const cfg = gw.config.mqtt.tls!;
    cfg.cert = renewed.cert;
    cfg.key = renewed.key;
    process.kill(process.pid, 'SIGHUP');
    await until(async () => (await fingerprint()) !== before, 5000, 'new certificate served');
  });
});

describe('broker: MQTT over plain WebSocket', () => {
  it('publishes and subscribes end to end through ws://', async () => {
    const gw = await startInProcess({ mqtt: { websocket: { port: 0 } } });
    try {
      const c = await open(`ws://127.0.0.1:${gw.broker.ports.ws}/mqtt`, { clientId: 'ws-dev' });
      expect(await roundTrip(c, 'ws-dev')).toBe('devices/ws-dev/commands/ping=pong');
      // and the message went through ingest into the queue like any other
      expect(await gw.metrics.publishReceived.get()).toMatchObject({
        values: [{ labels: { qos: '1' }, value: 1 }],
      });
      c.end(true);
    } finally {
      await gw.stop();
    }
  });
});
