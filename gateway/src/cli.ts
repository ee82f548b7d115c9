#!/usr/bin/env node
/**
 * tidegate start | check-config | help
 * Exit codes: 0 ok, 1 runtime failure, 2 configuration or usage error (bad config, port in use).
 */
import { parseArgs } from 'node:util';
import { Gateway, VERSION } from './app.js';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { errorMessage, TidegateError } from './errors.js';

const HELP = `tidegate ${VERSION}: an MQTT gateway that acknowledges only what it has stored

Usage:
  tidegate start [--config FILE] [--mqtt-port N] [--status-port N] [--data-dir DIR]
      Run the gateway. Without --config it runs on the built-in default:
      MQTT on 1883, status page on 8080, data in ./data, every topic to a file sink.
  tidegate check-config FILE
      Validate a configuration file and print every problem with its path.
  tidegate help | --help
      Show this text.
  tidegate --version

Exit codes: 0 ok, 1 runtime failure, 2 configuration error (including a port in use).
`;

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
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.log.info({ signal }, 'shutting down');
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
  return -1; // keep running
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'check-config':
      return checkConfig(
        rest[0],
        (s) => process.stdout.write(`${s}\n`),
        (s) => process.stderr.write(`${s}\n`),
      );
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`tidegate: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`tidegate: ${errorMessage(e)}\n`);
    process.exitCode = 1;
  },
);
