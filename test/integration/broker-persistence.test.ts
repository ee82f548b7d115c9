/**
 * Runs the shared aedes persistence suite (node:test) against SqlitePersistence
 * in a child `node --test` process and fails if any of its tests fails.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const suite = fileURLToPath(new URL('./broker-persistence-abstract.node.js', import.meta.url));

describe('SQLite aedes persistence', () => {
  it('passes every test of aedes-persistence/abstract (aedes-persistence@11)', () => {
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', suite], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = r.stdout;
    const pass = Number(/^# pass (\d+)$/m.exec(out)?.[1] ?? -1);
    const fail = Number(/^# fail (\d+)$/m.exec(out)?.[1] ?? -1);
    const failures = out.split('\n').filter((l) => /^\s*not ok/.test(l));
    expect({ fail, failures, stderr: r.stderr.slice(0, 2000) }).toEqual({
      fail: 0,
      failures: [],
      stderr: '',
    });
    // the suite has 50 tests; fewer means it did not load or run completely
    expect(pass).toBeGreaterThanOrEqual(50);
    expect(r.status).toBe(0);
  });
});
