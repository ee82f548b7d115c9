#!/usr/bin/env node
/**
 * tidegate-sim <command>: simulated devices, faults on purpose, and proof from
 * the upstream side that nothing acknowledged was lost.
 * Exit codes: 0 ok, 1 loss found (verify, scenario) or runtime failure, 2 usage error.
 */
import { benchCommand, benchUsage } from './commands/bench.js';
import { runCommand, runUsage } from './commands/run.js';
import { scenarioCommand, scenarioUsage } from './commands/scenario.js';
import { verifyCommand, verifyUsage } from './commands/verify.js';

const commands: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  run: { run: runCommand, usage: runUsage },
  verify: { run: verifyCommand, usage: verifyUsage },
  scenario: { run: scenarioCommand, usage: scenarioUsage },
  bench: { run: benchCommand, usage: benchUsage },
};

function help(): string {
  const first = Object.values(commands).map((c) => `  ${c.usage.split('\n')[0]}`);
  return `tidegate-sim: simulated MQTT devices, fault scenarios and a loss verifier for Tidegate

Usage:
${first.join('\n')}
  tidegate-sim <command> --help   details of one command
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`tidegate-sim: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    // parseArgs and option validation errors are usage errors
    const usage = e.code?.startsWith('ERR_PARSE_ARGS') || /^invalid options|^--/.test(e.message);
    process.stderr.write(`tidegate-sim ${name}: ${e.message}\n`);
    return usage ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`tidegate-sim: ${err.message}\n`);
    process.exitCode = 1;
  },
);
