/**
 * The real process: graceful SIGTERM, a port already taken, a broken config,
 * and hostile bytes on the MQTT socket. Each gets a clear error; others go on.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { gatewayCli } from '../support/paths.js';

async function metric(gw: GatewayProcess, name: string): Promise<string[]> {
  const text = await (
    await fetch(`http://127.0.0.1:${gw.statusPort}/metrics`, {
      headers: { authorization: `Bearer ${gw.token}` },
    })
  ).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

function rawSend(port: number, bytes: Buffer): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    const t = setTimeout(() => {
      s.destroy();
      resolve('open');
    }, 1500);
    s.on('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
    s.on('error', () => undefined);
  });
}

describe('gateway process', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({});
  });
  afterAll(async () => {
    await gw.kill('SIGKILL');
  });

  it('closes a connection that sends malformed MQTT bytes and keeps serving others', async () => {
    const good = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      clientId: 'good',
      reconnectPeriod: 0,
    });
    // a CONNECT with a bogus protocol name, then pure garbage, then a PUBLISH before CONNECT
    expect(await rawSend(gw.mqttPort, Buffer.from('101000045858585804020000000474657374', 'hex'))).toBe(
      'closed',
    );
    expect(await rawSend(gw.mqttPort, Buffer.from('ffffffffffffffff00', 'hex'))).toBe('closed');
    expect(await rawSend(gw.mqttPort, Buffer.from('300a0003612f6268656c6c6f', 'hex'))).toBe('closed');
    await good.publishAsync('still/alive', 'yes', { qos: 1 });
    expect(good.connected).toBe(true);
    good.end(true);
  });

  it('refuses a 10 MB publish over mqtt.maxPacketSize from its header, counts it, and keeps serving', async () => {
    const tooLarge = async () =>
      Number(
        (await metric(gw, 'tidegate_errors_total'))
          .find((l) => l.includes('PACKET_TOO_LARGE'))
          ?.split(' ')[1] ?? 0,
      );
    const before = await tooLarge();
    const big = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      clientId: 'big',
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((r) => big.once('close', () => r()));
    big.publish('big/one', Buffer.alloc(10 * 1024 * 1024, 1), { qos: 1 });
    await closed;
    big.end(true);
    expect(await until(async () => (await tooLarge()) === before + 1)).toBe(true);
    const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      clientId: 'after',
      reconnectPeriod: 0,
    });
    await ok.publishAsync('after/big', 'fine', { qos: 1 });
    ok.end(true);
  });

  it('exits 0 within a few seconds on SIGTERM', async () => {
    const other = await startGateway({});
    const started = Date.now();
    expect(await other.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(other.logs.some((l) => l.includes('"tidegate stopped"'))).toBe(true);
  });

  it('says which port is taken and which setting to change, and exits 2', () => {
    const dir = tempDir();
    const cfg = join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      `dataDir: ${dir}\nmqtt:\n  port: ${gw.mqttPort}\n  host: 127.0.0.1\nstatus:\n  port: 0\n`,
    );
    const r = spawnSync(process.execPath, [gatewayCli, 'start', '--config', cfg], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      `tidegate: port ${gw.mqttPort} on 127.0.0.1 is already in use (another MQTT broker such as Mosquitto?): change mqtt.port in the config file`,
    );
  });

  it('refuses to start on a broken config file, printing every problem, exit 2', () => {
    const dir = tempDir();
    const cfg = join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      'mqtt:\n  port: "abc"\nsinks:\n  s1: { type: file, colour: blue }\nroutes:\n  r: { from: "#", to: nope }\n',
    );
    const r = spawnSync(process.execPath, [gatewayCli, 'start', '--config', cfg], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('mqtt.port: expected number, got "abc"');
    expect(r.stderr).toContain('sinks.s1.colour: unknown key');
    const check = spawnSync(process.execPath, [gatewayCli, 'check-config', cfg], { encoding: 'utf8' });
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('mqtt.port: expected number, got "abc"');
  });

  it('prints every command in --help', () => {
    const r = spawnSync(process.execPath, [gatewayCli, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const c of ['start', 'check-config']) expect(r.stdout).toContain(`tidegate ${c}`);
  });
});
