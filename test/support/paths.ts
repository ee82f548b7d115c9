import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test');
    dir = up;
  }
  return dir;
}

/** The repository root, found from the compiled test's location (dist/test/...). */
export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const distDir = join(repoRoot, 'dist');
export const gatewayCli = join(distDir, 'gateway/src/cli.js');
