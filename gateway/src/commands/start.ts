import { parseArgs } from 'node:util';
import { Gateway } from '../app.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { errorMessage, TidegateError } from '../errors.js';
import { SystemdNotifier } from '../observe/sd-notify.js';
import type { Command } from './command.js';

function withOverrides(config: Config, v: Record<string, string | boolean | undefined>): Config {
  const c = structuredClone(config);
  if (typeof v['mqtt-port'] === 'string') c.mqtt.port = Number(v['mqtt-port']);
  if (typeof v['status-port'] === 'string') c.status.port = Number(v['status-port']);
  if (typeof v['data-dir'] === 'string') c.dataDir = v['data-dir'];
  return c;
}

async function start(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'mqtt-port': { type: 'string' },
      'status-port': { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  let config: Config;
  try {
    config = withOverrides(loadConfig(values.config), values);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tidegate: invalid configuration in ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const gateway = new Gateway(config, {
    onFatal: () => {
      // the store is gone: exit so the service manager restarts us on a clean state
      process.exit(1);
    },
  });
  // null unless started by systemd (Type=notify): READY, watchdog pings, STOPPING
  const notifier = SystemdNotifier.fromEnv(process.env, gateway.log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.log.info({ signal }, 'shutting down');
    void notifier?.stopping();
    const force = setTimeout(() => {
      gateway.log.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    gateway.stop().then(
      () => process.exit(0),
      (e) => {
        gateway.log.error({ err: errorMessage(e) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await gateway.start();
  } catch (e) {
    if (e instanceof TidegateError && e.code === 'PORT_IN_USE') {
      process.stderr.write(`tidegate: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`tidegate: failed to start: ${errorMessage(e)}\n`);
    return 1;
  }
  void notifier?.ready(
    `MQTT on port ${gateway.broker.port}, status on port ${gateway.status?.port ?? 'off'}`,
  );
  notifier?.startWatchdog(() => gateway.ready().ready);
  return -1; // keep running
}

export const startCommand: Command = {
  usage: 'start [--config FILE] [--mqtt-port N] [--status-port N] [--data-dir DIR]',
  summary:
    'Run the gateway. Without --config it runs on the built-in default: MQTT on 1883, status page on 8080, data in ./data, every topic to a file sink.',
  run: start,
};
