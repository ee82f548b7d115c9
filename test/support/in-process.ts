/** Starts a Gateway inside the test process (ports 0, temp data dir, silent logs). */
import { pino } from 'pino';
import { Gateway } from '../../gateway/src/app.js';
import { parseConfig } from '../../gateway/src/config/load.js';
import { tempDir } from './gateway-process.js';

export async function startInProcess(
  config: Record<string, unknown> = {},
  dataDir = tempDir(),
): Promise<Gateway> {
  const full = {
    dataDir,
    ...config,
    mqtt: { port: 0, host: '127.0.0.1', ...((config.mqtt as object) ?? {}) },
    status: { port: 0, host: '127.0.0.1', ...((config.status as object) ?? {}) },
  };
  const gw = new Gateway(parseConfig(full, 'test'), { logger: pino({ level: 'silent' }) });
  await gw.start();
  return gw;
}

/** Polls until fn() is truthy, or throws after timeoutMs with the last value. */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
