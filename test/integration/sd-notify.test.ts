/**
 * sd_notify through systemd-notify(1) against a real unix datagram socket:
 * READY once the broker listens, watchdog pings at half WATCHDOG_USEC while
 * healthy, STOPPING on SIGTERM; failures are logged and counted, never fatal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemdNotifier, watchdogInterval } from '../../gateway/src/observe/sd-notify.js';
import { type NotifyReceiver, startNotifyReceiver } from '../deploy/notify-receiver.js';
import { startGateway, tempDir } from '../support/gateway-process.js';
import { until } from '../support/in-process.js';

function silentLog(): { warn: (obj: object, msg: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`) };
}

describe('sd_notify', () => {
  let rx: NotifyReceiver;
  beforeAll(async () => {
    rx = await startNotifyReceiver(tempDir('tidegate-notify-'));
  });
  afterAll(() => rx.close());

  it('reads the watchdog interval as half of WATCHDOG_USEC, only for our own PID', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42)).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: 'soon' }, 42)).toBeNull();
    expect(watchdogInterval({}, 42)).toBeNull();
    expect(SystemdNotifier.fromEnv({}, silentLog())).toBeNull();
  });

  it('the gateway sends READY after it listens, pings the watchdog, and STOPPING on SIGTERM', async () => {
    const before = rx.messages.length;
    const gw = await startGateway(
      {},
      { env: { NOTIFY_SOCKET: rx.socket, WATCHDOG_USEC: '400000', WATCHDOG_PID: undefined } },
    );
    const mine = () => rx.messages.slice(before);
    const ready = await until(() => mine().find((m) => m.startsWith('READY=1')), 10_000, 'READY=1');
    expect(ready).toContain(`MQTT on port ${gw.mqttPort}`);
    await until(() => mine().filter((m) => m === 'WATCHDOG=1').length >= 3, 10_000, 'three watchdog pings');
    expect(await gw.stop()).toBe(0);
    await until(() => mine().find((m) => m.startsWith('STOPPING=1')), 10_000, 'STOPPING=1');
    // every notification was followed by systemd-notify's barrier, which our socket released
    expect(mine().filter((m) => m === 'BARRIER=1').length).toBeGreaterThanOrEqual(5);
  });

  it('stops pinging the watchdog while the gateway is unhealthy, so systemd would restart it', async () => {
    const log = silentLog();
    const n = new SystemdNotifier(rx.socket, 50, log);
    let healthy = true;
    n.startWatchdog(() => healthy);
    await until(() => n.pings >= 2, 10_000, 'two pings while healthy');
    healthy = false;
    await new Promise((r) => setTimeout(r, 150)); // a ping already running may still finish
    const frozen = n.pings;
    await new Promise((r) => setTimeout(r, 400));
    expect(n.pings).toBe(frozen);
    n.stopWatchdog();
    expect(log.warnings).toEqual([]);
  });

  it('a missing systemd-notify is logged and counted, and the caller goes on', async () => {
    const log = silentLog();
    const n = new SystemdNotifier(rx.socket, null, log, { command: '/nonexistent/systemd-notify' });
    expect(await n.ready('test')).toBe(false);
    expect(n.failures).toBe(1);
    expect(log.warnings[0]).toContain('sd_notify failed');
    expect(log.warnings[0]).toContain('ENOENT');
  });
});
