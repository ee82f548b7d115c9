/** `tidegate-sim verify`: reads the upstream, compares with the ack ledger; exit 1 if an acked message is missing. */
import { parseArgs } from 'node:util';
import { ackedCount, readLedger } from '../ledger.js';
import { parseDuration } from '../options.js';
import { type Collected, MqttCollector, readFileSource, readKafkaSource } from '../verify/sources.js';
import { formatReport, verify } from '../verify/verify.js';

export const verifyUsage = `tidegate-sim verify --ledger FILE <source> [--json]
Sources (one):
  --file DIR                      a file sink folder (NDJSON record envelopes)
  --kafka HOST:PORT[,...] --topic T[,T...]
                                  a Kafka topic, read from the beginning
  --mqtt URL --topic FILTER [--client-id ID]
                                  an MQTT subscription (QoS 1, persistent session: give the
                                  client id of a session that was subscribed before the run)
  --idle 3s      stop reading after this much silence (Kafka, MQTT)
  --timeout 60s  stop reading after this long in all (Kafka, MQTT)
Exit codes: 0 nothing acknowledged is missing, 1 something is, 2 usage error.`;

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ledger: { type: 'string' },
      file: { type: 'string' },
      kafka: { type: 'string' },
      mqtt: { type: 'string' },
      topic: { type: 'string' },
      'client-id': { type: 'string' },
      idle: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${verifyUsage}\n`);
    return 0;
  }
  const sources = [values.file, values.kafka, values.mqtt].filter((v) => v !== undefined);
  if (!values.ledger || sources.length !== 1) {
    process.stderr.write(`tidegate-sim verify: give --ledger and exactly one source\n\n${verifyUsage}\n`);
    return 2;
  }
  if ((values.kafka || values.mqtt) && !values.topic) {
    process.stderr.write('tidegate-sim verify: --topic is required with --kafka and --mqtt\n');
    return 2;
  }
  const ledger = await readLedger(values.ledger);
  const idleMs = parseDuration(values.idle ?? '3s', '--idle');
  const timeoutMs = parseDuration(values.timeout ?? '60s', '--timeout');
  let collected: Collected;
  let source: string;
  if (values.file) {
    source = `file sink ${values.file}`;
    collected = await readFileSource(values.file);
  } else if (values.kafka) {
    source = `kafka ${values.kafka} ${values.topic}`;
    collected = await readKafkaSource({
      brokers: values.kafka.split(','),
      topics: values.topic!.split(','),
      idleMs,
      timeoutMs,
      expect: ackedCount(ledger),
    });
  } else {
    source = `mqtt ${values.mqtt} ${values.topic}`;
    const c = new MqttCollector(values.mqtt!, values.topic!, values['client-id']);
    await c.start();
    await c.settle(ackedCount(ledger), idleMs, timeoutMs);
    await c.stop();
    collected = c.collected;
  }
  const report = verify(ledger, collected.arrivals, { foreign: collected.foreign });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ source, latencyBasis: collected.latencyBasis, ...report })}\n`);
  } else {
    process.stdout.write(formatReport(report, `${source} (latency: ${collected.latencyBasis})`));
  }
  return report.lost === 0 ? 0 : 1;
}
