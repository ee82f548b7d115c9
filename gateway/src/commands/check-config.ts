import { ConfigError, loadConfig } from '../config/load.js';
import type { Command } from './command.js';

type Out = (s: string) => void;

export async function checkConfig(file: string | undefined, out: Out, err: Out): Promise<number> {
  if (!file) {
    err('usage: tidegate check-config FILE');
    return 2;
  }
  try {
    const config = loadConfig(file);
    out(
      `${file}: ok (${Object.keys(config.sinks).length} sink(s), ${Object.keys(config.routes).length} route(s))`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return 2;
    }
    throw e;
  }
}

export const checkConfigCommand: Command = {
  usage: 'check-config FILE',
  summary: 'Validate a configuration file and print every problem with its path.',
  run: (argv) =>
    checkConfig(
      argv[0],
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stderr.write(`${s}\n`),
    ),
};
