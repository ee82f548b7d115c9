/**
 * Runs a scenario: starts the gateway (a child process) in front of the
 * upstream, lets the fleet publish, plays the timeline of faults, then lets
 * the gateway drain and verifies from the upstream side. The result holds the
 * run summary, the gateway's cost and the verification report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type ProcUsage, ProcWatch } from '../bench/procstat.js';
import { ackedCount, writeLedger } from '../ledger.js';
import { parseFleet } from '../options.js';
import { type RunSummary, summarize } from '../summary.js';
import { type VerifyReport, verify } from '../verify/verify.js';
import { startFleet } from '../workers.js';
import { freePort, GatewayProcess } from './gateway.js';
import type { Scenario, Step } from './schema.js';
import type { Upstream } from './upstream.js';

export interface ScenarioOptions {
  scenario: Scenario;
  upstream: Upstream;
  workDir: string;
  workers?: number;
  /** device options over the scenario's own (e.g. from the command line) */
  devices?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  upstream: string;
  summary: RunSummary;
  verify: VerifyReport;
  latencyBasis: string;
  gateway: ProcUsage | null;
  /** highest queue fill ratio and backlog seen while the devices ran */
  maxFillRatio: number;
  maxBacklog: number;
  /** messages the gateway dropped, by reason (expired, dead-lettered, drop-oldest...) */
  gatewayDropped: Record<string, number>;
  drained: boolean;
  events: string[];
  ledgerFile: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

function gatewayConfig(o: ScenarioOptions, dataDir: string, port: number): Obj {
  const sink = deepMerge(
    deepMerge(o.upstream.sinkConfig(), {
      batch: { linger: '20ms' },
      // short backoff so a scenario's outage ends in seconds, not in the production 30 s cap
      retry: { initialDelay: '100ms', maxDelay: '1s' },
      sendTimeout: '5s',
    }),
    o.scenario.sink,
  );
  const config = deepMerge(
    {
      gatewayId: 'sim',
      dataDir,
      mqtt: { host: '127.0.0.1', port },
      status: { host: '127.0.0.1', port: 0 },
      sinks: { up: sink },
      routes: { sim: { from: '#', to: 'up' } },
    },
    o.scenario.gateway,
  );
  return config;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const { scenario, upstream } = o;
  const log = o.log ?? (() => undefined);
  const needsControl = scenario.timeline.some((s) => s.action.endsWith('-upstream'));
  if (needsControl && upstream.kind === 'file') {
    throw new Error(
      `scenario ${scenario.name} stops the upstream; a file upstream cannot be stopped (use mqtt or kafka)`,
    );
  }
  mkdirSync(o.workDir, { recursive: true });
  const dataDir = join(o.workDir, 'gateway');
  const port = await freePort();
  const configFile = join(o.workDir, 'tidegate.yaml');
  const gateway = new GatewayProcess(configFile, dataDir);
  const events: string[] = [];
  const t0 = Date.now();
  const event = (what: string) => {
    const line = `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`;
    events.push(line);
    log(line);
  };
  let watch: ProcWatch | null = null;
  try {
    // the upstream picks its port when it opens; the sink config names it
    await upstream.open();
    writeFileSync(configFile, stringify(gatewayConfig(o, dataDir, port)));
    await gateway.start();
    event(`gateway started (pid ${gateway.pid}, mqtt ${port}), upstream ${upstream.description}`);
    watch = new ProcWatch(gateway.pid!);
    watch.start();
    const fleetConfig = parseFleet({ ...scenario.devices, ...o.devices, url: `mqtt://127.0.0.1:${port}` });
    const fleet = startFleet(fleetConfig, o.workers ?? 1);
    const started = Date.now();
    let maxFillRatio = 0;
    let maxBacklog = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        const s = await gateway.status();
        for (const k of s?.sinks ?? []) {
          maxFillRatio = Math.max(maxFillRatio, k.fillRatio);
          maxBacklog = Math.max(maxBacklog, k.backlogMessages);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const act = async (step: Step) => {
      switch (step.action) {
        case 'kill-gateway':
          await gateway.kill('SIGKILL');
          return 'gateway killed (SIGKILL)';
        case 'stop-gateway':
          return `gateway stopped (SIGTERM, exit ${await gateway.kill('SIGTERM')})`;
        case 'start-gateway':
        case 'restart-gateway':
          if (step.action === 'restart-gateway') await gateway.kill('SIGKILL');
          await gateway.start();
          watch!.follow(gateway.pid!);
          return `gateway ${step.action === 'restart-gateway' ? 'killed and restarted' : 'started'} (pid ${gateway.pid})`;
        case 'stop-upstream':
          await upstream.stop();
          return 'upstream stopped';
        case 'start-upstream':
          await upstream.start();
          return 'upstream started';
        case 'drop-connections':
          fleet.dropConnections(step.fraction);
          return `dropped the connections of ${Math.round(step.fraction * 100)} % of the devices`;
      }
    };
    const fleetDone = fleet.done.then(() => undefined);
    for (const step of scenario.timeline) {
      const wait = started + step.at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      event(await act(step));
    }
    const result = await fleetDone.then(() => fleet.done);
    running = false;
    await sampler;
    event(`devices done: sent ${result.stats.sent}, acked ${ackedCount(result.ledger)}`);
    if (!gateway.running) {
      await gateway.start();
      watch.follow(gateway.pid!);
      event('gateway started for the drain');
    }
    await upstream.start();
    const drained = await gateway.drained(scenario.drainTimeout);
    event(drained ? 'gateway queue drained' : `gateway queue NOT drained after ${scenario.drainTimeout} ms`);
    const dropped: Record<string, number> = {};
    for (const k of (await gateway.status())?.sinks ?? []) {
      for (const [reason, n] of Object.entries(k.dropped)) dropped[reason] = (dropped[reason] ?? 0) + n;
    }
    const collected = await upstream.collect(ackedCount(result.ledger));
    const report = verify(result.ledger, collected.arrivals, { foreign: collected.foreign });
    event(
      `verified: ${report.lost} lost, ${report.duplicates} duplicates, ${report.outOfOrder} out of order`,
    );
    await gateway.kill('SIGTERM');
    const usage = watch.stop();
    watch = null;
    const ledgerFile = join(o.workDir, 'ledger.json');
    await writeLedger(ledgerFile, result.ledger);
    const out: ScenarioResult = {
      name: scenario.name,
      upstream: upstream.description,
      summary: summarize(result),
      verify: report,
      latencyBasis: collected.latencyBasis,
      gateway: usage,
      maxFillRatio,
      maxBacklog,
      gatewayDropped: dropped,
      drained,
      events,
      ledgerFile,
    };
    writeFileSync(join(o.workDir, 'report.json'), `${JSON.stringify(out, null, 2)}\n`);
    return out;
  } finally {
    watch?.stop();
    await gateway.kill('SIGKILL');
    await upstream.close();
  }
}
