/** Runs once before all test files: nothing shared yet beyond a clean artifacts folder. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export default function setup(): void {
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
}
