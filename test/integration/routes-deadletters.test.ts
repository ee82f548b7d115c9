/**
 * Dead letters end to end, with real gateway processes and the real CLI:
 * payloads refused by a route are listed with counts per reason, exported
 * with their original bytes, and retried (while a gateway with the fixed
 * route runs) into the sink; what still fails stays, and the exit code says so.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { gatewayCli } from '../support/paths.js';
import { readFileSink } from '../support/records.js';

const exec = promisify(execFile);
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [gatewayCli, ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const gws: GatewayProcess[] = [];
afterEach(async () => {
  for (const g of gws.splice(0)) await g.stop();
});

function config(expr: string) {
  return {
    gatewayId: 'gw-dl',
    sinks: { out: { type: 'file', path: 'out', batch: { linger: 0 } } },
    routes: {
      scale: { from: 'm/+deviceId', decode: 'json', steps: [{ type: 'map', expr }], to: 'out' },
    },
  };
}

describe('tidegate deadletters', () => {
  it('lists counts per reason, exports the original payloads, and retries through the route as configured now', async () => {
    const dir = tempDir();
    const gw1 = await startGateway(config('{ "c": raw / 10 }'), { dataDir: dir });
    gws.push(gw1);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw1.mqttPort}`, {
      clientId: 'dev',
      reconnectPeriod: 0,
    });
    await c.publishAsync('m/d1', '{"raw": 215}', { qos: 1 });
    await c.publishAsync('m/d1', '{"raw": "230"}', { qos: 1 });
    await c.publishAsync('m/d2', '{"raw": "240"}', { qos: 1 });
    await c.publishAsync('m/d2', '{"raw": 2', { qos: 1 });
    await c.endAsync();
    await until(async () => (await readFileSink(join(dir, 'out'))).length === 1);
    const conf = gw1.configFile;

    const listed = await cli(['deadletters', 'list', '--config', conf]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^3 dead letter\(s\)/);
    expect(listed.stdout).toMatch(/\n {4}2 .* scale +steps\.0:map +map: .*must evaluate to a number/);
    expect(listed.stdout).toMatch(/\n {4}1 .* scale +decode +invalid JSON/);

    const exported = await cli(['deadletters', 'export', '--config', conf]);
    const rows = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: string; topic: string; device: string; payloadBase64: string });
    expect(
      rows.map((r) => [r.stage, r.topic, r.device, Buffer.from(r.payloadBase64, 'base64').toString()]),
    ).toEqual([
      // the device of the records (the +deviceId wildcard), not the publishing client 'dev'
      ['steps.0:map', 'm/d1', 'd1', '{"raw": "230"}'],
      ['steps.0:map', 'm/d2', 'd2', '{"raw": "240"}'],
      ['decode', 'm/d2', 'd2', '{"raw": 2'],
    ]);

    expect((await cli(['deadletters', 'retry', '--config', conf])).code).toBe(2); // no selection: refuses

    // fix the route, restart, and retry while it runs
    await gw1.stop();
    gws.splice(0);
    const gw2 = await startGateway(config('{ "c": $number(raw) / 10 }'), { dataDir: dir });
    gws.push(gw2);
    const retried = await cli(['deadletters', 'retry', '--all', '--config', gw2.configFile]);
    expect(retried.stdout).toContain('retried 3: 2 queued, 0 filtered, 1 failed, 0 skipped');
    expect(retried.code).toBe(1);
    const out = await until(async () => {
      const r = await readFileSink(join(dir, 'out'));
      return r.length === 3 ? r : null;
    });
    expect(out.map((r) => [r.deviceId, r.payload])).toEqual([
      ['d1', { c: 21.5 }],
      ['d1', { c: 23 }],
      ['d2', { c: 24 }],
    ]);
    const after = await cli(['deadletters', 'export', '--config', gw2.configFile]);
    expect(after.stdout.trim().split('\n')).toHaveLength(1);
    expect(after.stdout).toContain('"stage":"decode"');
  });
});
