import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, REFERENCE_END, REFERENCE_START } from '../../../gateway/src/config/reference.js';
import { repoRoot } from '../../support/paths.js';

describe('README', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  it('holds the configuration reference generated from the current schema (npm run docs:config)', () => {
    const block = readme.slice(
      readme.indexOf(REFERENCE_START) + REFERENCE_START.length,
      readme.indexOf(REFERENCE_END),
    );
    expect(block.trim()).toBe(configReference().trim());
  });
  it('gives the two set-up commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');
    expect(firstScreen).toContain('npm install && npm start');
    expect(firstScreen).toContain('npm test');
  });
});
