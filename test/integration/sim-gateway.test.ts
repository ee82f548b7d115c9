/**
 * The simulator against the real gateway (a child process, file sink): every
 * acknowledged message is found upstream, and the verifier reads real sink
 * files. Then the same records with lines removed: `verify` must name exactly
 * the removed sequence numbers and exit 1.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../../device-sim/src/contract.js';
import { ackedCount, readLedger } from '../../device-sim/src/ledger.js';
import { parseFleet } from '../../device-sim/src/options.js';
import { readFileSource } from '../../device-sim/src/verify/sources.js';
import { verify } from '../../device-sim/src/verify/verify.js';
import { startFleet } from '../../device-sim/src/workers.js';
import { listSinkFiles } from '../../gateway/src/forward/sinks/file/sink.js';
import { type GatewayProcess, startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';
import { distDir } from '../support/paths.js';

const run = promisify(execFile);
const simCli = join(distDir, 'device-sim/src/cli.js');

async function backlog(gw: GatewayProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.statusPort}/api/status`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  const s = (await res.json()) as { sinks: Array<{ backlogMessages: number }> };
  return s.sinks.reduce((a, k) => a + k.backlogMessages, 0);
}

describe('tidegate-sim against the gateway (file sink)', () => {
  let gw: GatewayProcess;
  let outDir: string;

  beforeAll(async () => {
    outDir = join(tempDir('sim-out-'), 'upstream');
    gw = await startGateway({
      sinks: { local: { type: 'file', path: outDir, batch: { linger: '20ms' } } },
      routes: { all: { from: 'devices/#', to: 'local' } },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('loses none of the acknowledged messages of 20 devices over 3 s, in per-device order', async () => {
    const config = parseFleet({
      url: `mqtt://127.0.0.1:${gw.mqttPort}`,
      devices: 20,
      rate: 10,
      duration: '3s',
      idPrefix: 'inproc',
    });
    const result = await startFleet(config).done;
    expect(ackedCount(result.ledger)).toBeGreaterThan(400);
    await until(async () => (await backlog(gw)) === 0, 20_000, 'drain');
    const collected = await readFileSource(outDir);
    const report = verify(result.ledger, collected.arrivals, { foreign: collected.foreign });
    expect(report.lost).toBe(0);
    expect(report.outOfOrder).toBe(0);
    expect(report.arrived).toBe(ackedCount(result.ledger));
    expect(report.latencyMs?.count).toBe(report.arrived);
  });

  it('run + verify as commands: 0 lost, then exactly the removed records reported and exit code 1', async () => {
    const dir = tempDir('sim-cli-');
    const ledgerFile = join(dir, 'ledger.json');
    const { stdout } = await run(process.execPath, [
      simCli,
      'run',
      '--url',
      `mqtt://127.0.0.1:${gw.mqttPort}`,
      '--devices',
      '10',
      '--rate',
      '20',
      '--duration',
      '2s',
      '--id-prefix',
      'cli',
      '--encoding',
      'cbor',
      '--workers',
      '2',
      '--ledger',
      ledgerFile,
      '--json',
    ]);
    const summary = JSON.parse(stdout) as { acked: number; devices: number; run: string };
    expect(summary.devices).toBe(10);
    expect(summary.acked).toBeGreaterThan(200);
    expect(ackedCount(await readLedger(ledgerFile))).toBe(summary.acked);
    await until(async () => (await backlog(gw)) === 0, 20_000, 'drain');

    const ok = await run(process.execPath, [
      simCli,
      'verify',
      '--ledger',
      ledgerFile,
      '--file',
      outDir,
      '--json',
    ]);
    const good = JSON.parse(ok.stdout) as { lost: number; arrived: number; foreign: number };
    expect(good.lost).toBe(0);
    expect(good.arrived).toBe(summary.acked);

    // take records of this run out of the sink files: device cli-00003, every 7th message
    const removed: number[] = [];
    for (const f of await listSinkFiles(outDir)) {
      const kept = readFileSync(f, 'utf8')
        .split('\n')
        .filter((line) => {
          if (!line) return false;
          const env = JSON.parse(line) as { payloadBase64?: string };
          const p = env.payloadBase64 ? decodePayload(Buffer.from(env.payloadBase64, 'base64')) : null;
          if (p?.run === summary.run && p.dev === 'cli-00003' && p.seq % 7 === 0) {
            removed.push(p.seq);
            return false;
          }
          return true;
        });
      writeFileSync(f, `${kept.join('\n')}\n`);
    }
    expect(removed.length).toBeGreaterThan(2);
    const bad = await run(process.execPath, [
      simCli,
      'verify',
      '--ledger',
      ledgerFile,
      '--file',
      outDir,
      '--json',
    ]).then(
      () => null,
      (err: { code: number; stdout: string }) => err,
    );
    expect(bad?.code).toBe(1);
    const report = JSON.parse(bad!.stdout) as {
      lost: number;
      problems: Array<{ device: string; missing: number[] }>;
    };
    expect(report.lost).toBe(removed.length);
    expect(report.problems).toEqual([
      expect.objectContaining({ device: 'cli-00003', missing: removed.sort((a, b) => a - b) }),
    ]);
  });

  it('refuses a missing ledger and a missing source with usage errors', async () => {
    const err = await run(process.execPath, [simCli, 'verify', '--file', outDir]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 2 });
    const err2 = await run(process.execPath, [simCli, 'run', '--devices', 'many']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err2).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--devices: expected an integer'),
    });
  });
});
