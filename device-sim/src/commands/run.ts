/** `tidegate-sim run`: a fleet against a broker; summary table (or --json) and the ack ledger file. */
import { parseArgs } from 'node:util';
import { writeLedger } from '../ledger.js';
import { parseFleet } from '../options.js';
import { formatSummary, progressLine, summarize } from '../summary.js';
import { startFleet } from '../workers.js';
import { fleetInputFromFlags, fleetOptions, fleetUsage } from './args.js';

export const runUsage = `tidegate-sim run [device options] [--workers N] [--ledger FILE] [--json]
  --workers N      spread the devices over N worker threads
  --ledger FILE    write the ack ledger here (default ./sim-ledger.json), for \`tidegate-sim verify\`
  --json           print the summary as JSON

${fleetUsage}`;

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...fleetOptions,
      workers: { type: 'string' },
      ledger: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${runUsage}\n`);
    return 0;
  }
  const config = parseFleet(fleetInputFromFlags(values));
  const workers = Number(values.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers: expected a positive integer');
  const fleet = startFleet(config, workers);
  const onSignal = () => fleet.halt();
  process.once('SIGINT', onSignal);
  const tty = process.stderr.isTTY && !values.json;
  let lastAcked = 0;
  let lastAt = Date.now();
  const progress = tty
    ? setInterval(() => {
        const s = fleet.stats();
        process.stderr.write(`\r${progressLine(s, lastAcked, Date.now() - lastAt)}\x1b[K`);
        lastAcked = s.acked;
        lastAt = Date.now();
      }, 1000)
    : null;
  const result = await fleet.done.finally(() => {
    if (progress) clearInterval(progress);
    if (tty) process.stderr.write('\n');
    process.removeListener('SIGINT', onSignal);
  });
  const ledgerFile = values.ledger ?? 'sim-ledger.json';
  await writeLedger(ledgerFile, result.ledger);
  const summary = summarize(result);
  if (values.json) process.stdout.write(`${JSON.stringify({ ...summary, ledger: ledgerFile })}\n`);
  else process.stdout.write(`${formatSummary(summary)}ledger      ${ledgerFile}\n`);
  return 0;
}
