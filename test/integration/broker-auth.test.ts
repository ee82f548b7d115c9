/**
 * Identity and ACL through real mqtt.js clients on a real socket, with a
 * credentials file written by the real `tidegate passwd` command: each refusal
 * gets the right CONNACK or behaviour and a counter, and nothing refused ever
 * lands in the SQLite queue.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/src/app.js';
import { connectPacket, RawClient, SUBACK, subscribePacket } from '../conformance/raw.js';
import { tempDir } from '../support/gateway-process.js';
import { startInProcess, until } from '../support/in-process.js';
import { gatewayCli } from '../support/paths.js';
import { readFileSink } from '../support/records.js';

const clients: MqttClient[] = [];
function connect(port: number, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...opts });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function refusal(port: number, opts: mqtt.IClientOptions): Promise<number> {
  return connect(port, opts).then(
    () => -1,
    (err: { code?: number }) => err.code ?? -2,
  );
}

/** Topics that reached the file sink, plus those still waiting in the queue: everything ingested. */
async function ingestedTopics(gw: Gateway): Promise<string[]> {
  const db = new Database(gw.queue.file, { readonly: true });
  try {
    const queued = (db.prepare('SELECT topic FROM messages').all() as Array<{ topic: string }>).map(
      (r) => r.topic,
    );
    const sent = (await readFileSink(join(gw.config.dataDir, 'out'))).map((r) => r.topic);
    return [...queued, ...sent];
  } finally {
    db.close();
  }
}

async function refused(gw: Gateway, what: string, reason: string): Promise<number> {
  const m = await gw.metrics.refused.get();
  return m.values.find((v) => v.labels.what === what && v.labels.reason === reason)?.value ?? 0;
}

describe('broker: identities and ACL', () => {
  let gw: Gateway;
  beforeAll(async () => {
    const dir = tempDir();
    const passwd = join(dir, 'passwd');
    for (const [user, pw] of [
      ['dev1', 'pw-one'],
      ['dev2', 'pw-two'],
      ['ops', 'pw-ops'],
    ]) {
      execFileSync(process.execPath, [gatewayCli, 'passwd', 'add', passwd, user!], {
        env: { ...process.env, TIDEGATE_PASSWORD: pw },
      });
    }
    gw = await startInProcess({
      mqtt: {
        auth: { passwordFile: passwd },
        acl: {
          rules: [
            'pattern write devices/%c/#',
            'pattern read devices/%c/commands/#',
            'user ops',
            'topic read devices/#',
            'topic write devices/+/commands/#',
            'topic deny devices/dev2/commands/secret',
          ],
        },
      },
    });
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await gw.stop();
  });

  it('refuses a wrong password with CONNACK 4 and counts it', async () => {
    expect(await refusal(gw.broker.port, { clientId: 'dev1', username: 'dev1', password: 'nope' })).toBe(4);
    expect(await refused(gw, 'connect', 'bad_password')).toBe(1);
  });

  it('refuses an unknown user with CONNACK 4 and counts it', async () => {
    expect(await refusal(gw.broker.port, { clientId: 'ghost', username: 'ghost', password: 'x' })).toBe(4);
    expect(await refused(gw, 'connect', 'unknown_user')).toBe(1);
  });

  it('refuses anonymous clients with CONNACK 5 once identities are configured', async () => {
    expect(await refusal(gw.broker.port, { clientId: 'anon' })).toBe(5);
    expect(await refused(gw, 'connect', 'anonymous')).toBe(1);
  });

  it('refuses a client id that is not the authenticated user with CONNACK 2', async () => {
    expect(await refusal(gw.broker.port, { clientId: 'dev2', username: 'dev1', password: 'pw-one' })).toBe(2);
    expect(await refused(gw, 'connect', 'client_id_mismatch')).toBe(1);
  });

  it('refuses a will outside the ACL with CONNACK 5', async () => {
    const c = await RawClient.open(gw.broker.port);
    c.send(
      connectPacket({
        clientId: 'dev1',
        username: 'dev1',
        password: 'pw-one',
        will: { topic: 'devices/dev2/status', payload: 'fake' },
      }),
    );
    expect(await c.connack()).toEqual([0, 5]);
    c.close();
  });

  it('accepts a publish inside the ACL and queues it', async () => {
    const dev1 = await connect(gw.broker.port, { clientId: 'dev1', username: 'dev1', password: 'pw-one' });
    await dev1.publishAsync('devices/dev1/telemetry', '{"t":1}', { qos: 1 });
    expect(await ingestedTopics(gw)).toContain('devices/dev1/telemetry');
    dev1.end(true);
  });

  it('refuses a publish outside the ACL: connection closed, counted, not queued, not delivered', async () => {
    const ops = await connect(gw.broker.port, { clientId: 'ops', username: 'ops', password: 'pw-ops' });
    await ops.subscribeAsync('devices/#', { qos: 1 });
    const seen: string[] = [];
    ops.on('message', (t) => seen.push(t));
    const dev1 = await connect(gw.broker.port, { clientId: 'dev1', username: 'dev1', password: 'pw-one' });
    const closed = new Promise<void>((r) => dev1.once('close', () => r()));
    dev1.publish('devices/dev2/telemetry', 'spoofed', { qos: 1 });
    await closed; // [MQTT-3.3.5-2]: aedes closes the connection of an unauthorised PUBLISH
    await until(async () => (await refused(gw, 'publish', 'acl')) === 1, 5000, 'publish refusal counted');
    // a QoS 0 one too: nothing to acknowledge, still refused before ingest
    const dev1b = await connect(gw.broker.port, { clientId: 'dev1', username: 'dev1', password: 'pw-one' });
    dev1b.publish('plant/other', 'spoofed', { qos: 0 });
    await until(async () => (await refused(gw, 'publish', 'acl')) === 2, 5000, 'qos 0 refusal counted');
    // a barrier: an allowed publish sent after the refused ones; once it is ingested, they would be too
    const dev1c = await connect(gw.broker.port, { clientId: 'dev1', username: 'dev1', password: 'pw-one' });
    await dev1c.publishAsync('devices/dev1/barrier', 'b', { qos: 1 });
    await until(async () => (await ingestedTopics(gw)).includes('devices/dev1/barrier'), 5000, 'barrier');
    const ingested = await ingestedTopics(gw);
    expect(ingested).not.toContain('devices/dev2/telemetry');
    expect(ingested).not.toContain('plant/other');
    expect(seen).not.toContain('devices/dev2/telemetry');
  });

  it('refuses a subscribe outside the ACL with SUBACK 0x80 and counts it; allowed ones in the same packet work', async () => {
    // raw: mqtt.js turns a SUBACK holding 0x80 into an error and hides the other codes
    const c = await RawClient.open(gw.broker.port);
    c.send(connectPacket({ clientId: 'dev2', username: 'dev2', password: 'pw-two' }));
    expect(await c.connack()).toEqual([0, 0]);
    c.send(subscribePacket(['devices/dev1/commands/#', 'devices/dev2/commands/#'], 1, 9));
    const suback = await c.next(SUBACK);
    // [MQTT-3.9.3-1] one return code per filter, in order: 0x80 = failure
    expect([...suback!.body]).toEqual([0, 9, 0x80, 1]);
    c.close();
    expect(await refused(gw, 'subscribe', 'acl')).toBe(1);
  });

  it('delivers commands to their device only, and enforces a deny rule per message', async () => {
    const dev2 = await connect(gw.broker.port, { clientId: 'dev2', username: 'dev2', password: 'pw-two' });
    await dev2.subscribeAsync('devices/dev2/commands/#', { qos: 1 });
    const got: string[] = [];
    dev2.on('message', (t, p) => got.push(`${t}=${p}`));
    const ops = await connect(gw.broker.port, { clientId: 'ops', username: 'ops', password: 'pw-ops' });
    await ops.publishAsync('devices/dev2/commands/reboot', 'now', { qos: 1 });
    await until(() => got.length > 0, 5000, 'command delivered');
    expect(got).toEqual(['devices/dev2/commands/reboot=now']);
    // ops may not publish to the denied topic: refused, never delivered
    const before = await refused(gw, 'publish', 'acl');
    ops.publish('devices/dev2/commands/secret', 'x', { qos: 1 });
    await until(async () => (await refused(gw, 'publish', 'acl')) === before + 1, 5000, 'deny counted');
    expect(got).toEqual(['devices/dev2/commands/reboot=now']);
  });

  it('reloads the password file on SIGHUP-driven reload: a removed user is refused', async () => {
    const file = gw.config.mqtt.auth.passwordFile!;
    execFileSync(process.execPath, [gatewayCli, 'passwd', 'remove', file, 'dev2']);
    gw.broker.reload();
    expect(await refusal(gw.broker.port, { clientId: 'dev2', username: 'dev2', password: 'pw-two' })).toBe(4);
  });
});
