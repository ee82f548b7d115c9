/**
 * JSONata is loaded only when a route needs it: a gateway with field steps and
 * fast-path conditions never pays for it. Checked in a fresh Node process (the
 * test process has loaded it already), through the real config parser and compiler.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const compile = new URL('../../../gateway/src/transform/compile.js', import.meta.url).href;
const load = new URL('../../../gateway/src/config/load.js', import.meta.url).href;

/** Parses and compiles the routes, runs one message, then prints whether jsonata's module is loaded. */
async function loadsJsonata(route: Record<string, unknown>, payload: unknown): Promise<boolean> {
  const script = `
    import { createRequire } from 'node:module';
    const { compileRoutes } = await import(${JSON.stringify(compile)});
    const { parseConfig } = await import(${JSON.stringify(load)});
    const config = parseConfig({ sinks: { s: { type: 'file' } }, routes: { r: ${JSON.stringify(route)} } }, 't', {});
    const [r] = compileRoutes(config);
    await r.run({ topic: 'd/1', payload: Buffer.from(${JSON.stringify(JSON.stringify(payload))}), qos: 1,
      retain: false, clientId: 'c', receivedAt: 1 }, { deviceId: '1' });
    const cache = createRequire(import.meta.url).cache;
    console.log(Object.keys(cache).some((k) => k.includes('/node_modules/jsonata/')));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout.trim() === 'true';
}

const base = { from: 'd/+deviceId', decode: 'json', to: 's' };

describe('loading JSONata', () => {
  it.each<[string, Record<string, unknown>, unknown, boolean]>([
    ['field steps only', { steps: [{ type: 'set', fields: { a: 1 } }] }, { t: 1 }, false],
    [
      'a fast-path where and filter',
      { where: 't > 1', steps: [{ type: 'filter', when: 'a = "x"' }] },
      { t: 2 },
      false,
    ],
    ['a where JSONata must evaluate', { where: '$count(t) > 0' }, { t: 2 }, true],
    ['a map step', { steps: [{ type: 'map', expr: '{ "c": t }' }] }, { t: 2 }, true],
    // an array on the path: the fast path is not sure how JSONata maps over it, so JSONata decides
    ['a fast-path where meeting an array', { where: 'a.t > 1' }, { a: [{ t: 2 }] }, true],
  ])('%s: loaded %s', async (_name, route, payload, want) => {
    expect(await loadsJsonata({ ...base, ...route }, payload)).toBe(want);
  });
});
