/**
 * The shipped scenarios end to end: the real gateway as a child process,
 * SIGKILLed and restarted, a private Mosquitto upstream stopped and started,
 * and the verifier's word at the end: no acknowledged message lost.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveScenario } from '../../device-sim/src/commands/scenario.js';
import { runScenario } from '../../device-sim/src/scenario/runner.js';
import { loadScenario } from '../../device-sim/src/scenario/schema.js';
import { FileUpstream, MosquittoUpstream } from '../../device-sim/src/scenario/upstream.js';
import { tempDir } from '../support/gateway-process.js';
import { distDir } from '../support/paths.js';

const run = promisify(execFile);

describe('shipped scenarios', () => {
  it('crash-restart (CLI, file sink): two SIGKILLs, 0 acknowledged messages lost', async () => {
    const { stdout } = await run(process.execPath, [
      join(distDir, 'device-sim/src/cli.js'),
      'scenario',
      'crash-restart',
      '--work-dir',
      tempDir('sim-crash-'),
      '--json',
    ]);
    const r = JSON.parse(stdout) as {
      events: string[];
      summary: { acked: number; connects: number; devices: number };
      verify: { lost: number; arrived: number; acked: number };
    };
    expect(r.events.filter((e) => e.includes('gateway killed (SIGKILL)'))).toHaveLength(2);
    expect(r.summary.acked).toBeGreaterThan(1500);
    // every device came back twice after the kills
    expect(r.summary.connects).toBeGreaterThanOrEqual(3 * r.summary.devices);
    expect(r.verify.acked).toBe(r.summary.acked);
    expect(r.verify.lost).toBe(0);
  });

  it('uplink-outage (private Mosquitto upstream): a backlog builds while it is down and drains after', async () => {
    const dir = tempDir('sim-outage-');
    const r = await runScenario({
      scenario: loadScenario(resolveScenario('uplink-outage')),
      upstream: new MosquittoUpstream(join(dir, 'mosquitto')),
      workDir: dir,
    });
    expect(r.maxBacklog).toBeGreaterThan(500);
    expect(r.drained).toBe(true);
    expect(r.verify.acked).toBeGreaterThan(1500);
    expect(r.verify.lost).toBe(0);
  });

  it('queue-full (reject-new): the queue reaches its limit, refused publishes are retried, none acked is lost', async () => {
    const dir = tempDir('sim-full-');
    const r = await runScenario({
      scenario: loadScenario(resolveScenario('queue-full')),
      upstream: new MosquittoUpstream(join(dir, 'mosquitto')),
      workDir: dir,
    });
    expect(r.maxFillRatio).toBeGreaterThan(0.9);
    expect(r.gatewayDropped.rejected_full ?? 0).toBeGreaterThan(0);
    expect(r.summary.requeued).toBeGreaterThan(0);
    expect(r.verify.lost).toBe(0);
  });

  it('churn (file sink): hundreds of reconnects, 0 lost', async () => {
    const dir = tempDir('sim-churn-');
    const r = await runScenario({
      scenario: loadScenario(resolveScenario('churn')),
      upstream: new FileUpstream(join(dir, 'upstream')),
      workDir: dir,
    });
    expect(r.summary.connects).toBeGreaterThan(300);
    expect(r.verify.lost).toBe(0);
  });

  it('refuses a scenario that stops a file upstream, before starting anything', async () => {
    const dir = tempDir('sim-refuse-');
    await expect(
      runScenario({
        scenario: loadScenario(resolveScenario('uplink-outage')),
        upstream: new FileUpstream(join(dir, 'upstream')),
        workDir: dir,
      }),
    ).rejects.toThrow(/file upstream cannot be stopped/);
  });
});
