import { readFileSync, writeFileSync } from 'node:fs';
import { configReference, withReference } from '../config/reference.js';
import type { Command } from './command.js';

export const configReferenceCommand: Command = {
  usage: 'config-reference [--write README.md]',
  summary:
    'Print the configuration reference (generated from the schema), or rewrite it inside a Markdown file.',
  run: async (argv) => {
    if (argv[0] === '--write' && argv[1]) {
      writeFileSync(argv[1], withReference(readFileSync(argv[1], 'utf8')));
      return 0;
    }
    process.stdout.write(`${configReference()}\n`);
    return 0;
  },
};
