/** `tidegate-sim scenario <name|file>`: a fault timeline against a real gateway, ending in verification. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runScenario, type ScenarioResult } from '../scenario/runner.js';
import { loadScenario } from '../scenario/schema.js';
import {
  FileUpstream,
  type KafkaControl,
  KafkaUpstream,
  MosquittoUpstream,
  type Upstream,
} from '../scenario/upstream.js';
import { formatSummary } from '../summary.js';
import { formatReport } from '../verify/verify.js';
import { fleetInputFromFlags, fleetOptions } from './args.js';

/** the shipped scenarios: dist/device-sim/src/commands -> device-sim/scenarios */
export const scenarioDir = fileURLToPath(new URL('../../../../device-sim/scenarios/', import.meta.url));

export const scenarioUsage = `tidegate-sim scenario <name|file.yaml> [options] [device options]
  Shipped: steady, uplink-outage, crash-restart, queue-full, churn (in device-sim/scenarios/).
  --upstream file|mqtt|kafka   override the scenario's upstream
  --kafka HOST:PORT            Kafka bootstrap for --upstream kafka (no outage control)
  --kafka-harness              start the repository's test Kafka broker (needs test/kafka/lib jars)
  --work-dir DIR               gateway data, ledger.json and report.json (default: a temp dir)
  --workers N                  spread the devices over N worker threads
  --json                       print the result as JSON
Exit codes: 0 nothing acknowledged is missing, 1 something is (or the run failed), 2 usage error.`;

export function resolveScenario(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const shipped = join(scenarioDir, `${nameOrPath}.yaml`);
  if (existsSync(shipped)) return shipped;
  throw new Error(`--: no scenario file "${nameOrPath}" and no shipped scenario of that name`);
}

interface HarnessBroker extends KafkaControl {
  stop(): Promise<void>;
}

async function kafkaHarness(): Promise<HarnessBroker> {
  const url = new URL('../../../test/support/kafka.js', import.meta.url);
  if (!existsSync(fileURLToPath(url)))
    throw new Error('--kafka-harness needs a repository build (dist/test)');
  const mod = (await import(url.href)) as { startKafka(): Promise<HarnessBroker> };
  return mod.startKafka();
}

export async function scenarioCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...fleetOptions,
      upstream: { type: 'string' },
      kafka: { type: 'string' },
      'kafka-harness': { type: 'boolean' },
      'work-dir': { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(`${scenarioUsage}\n`);
    return values.help ? 0 : 2;
  }
  const scenario = loadScenario(resolveScenario(positionals[0]!));
  const kind = values.upstream ?? scenario.upstream;
  const workDir = values['work-dir'] ?? mkdtempSync(join(tmpdir(), `tidegate-sim-${scenario.name}-`));
  let harness: HarnessBroker | null = null;
  let upstream: Upstream;
  if (kind === 'file') upstream = new FileUpstream(join(workDir, 'upstream'));
  else if (kind === 'mqtt') upstream = new MosquittoUpstream(join(workDir, 'mosquitto'));
  else if (kind === 'kafka') {
    if (values['kafka-harness']) harness = await kafkaHarness();
    else if (!values.kafka) throw new Error('--upstream kafka needs --kafka HOST:PORT or --kafka-harness');
    upstream = new KafkaUpstream(harness ?? { bootstrap: values.kafka! }, `tidegate-sim-${scenario.name}`);
  } else throw new Error(`--upstream: expected file, mqtt or kafka (got "${kind}")`);
  let result: ScenarioResult;
  try {
    result = await runScenario({
      scenario,
      upstream,
      workDir,
      workers: Number(values.workers ?? 1),
      devices: fleetInputFromFlags(values),
      log: values.json ? undefined : (line) => process.stderr.write(`${line}\n`),
    });
  } finally {
    await harness?.stop();
  }
  // the timeline was streamed to stderr as it happened; --json carries it in `events`
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(formatScenario(result));
  return result.verify.lost === 0 ? 0 : 1;
}

export function formatScenario(r: ScenarioResult): string {
  const g = r.gateway;
  const gw = g
    ? `gateway     max RSS ${g.maxRssMB.toFixed(1)} MB, CPU ${g.cpuPercent.toFixed(1)} % of a core, ${g.writeBytes ?? 'n/a'} bytes written`
    : 'gateway     (no /proc samples)';
  const dropped = Object.entries(r.gatewayDropped)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `scenario ${r.name} against ${r.upstream} (timeline above, on stderr)`,
    formatSummary(r.summary).trimEnd(),
    gw,
    `queue       max backlog ${r.maxBacklog}, max fill ${(r.maxFillRatio * 100).toFixed(1)} %, dropped by gateway (since last start): ${dropped || 'none'}`,
    `ledger      ${r.ledgerFile}`,
    '',
    formatReport(r.verify, `${r.upstream} (latency: ${r.latencyBasis})`),
  ].join('\n');
}
