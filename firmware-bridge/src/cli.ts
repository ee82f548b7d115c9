#!/usr/bin/env node
/**
 * tidegate-bridge <command>. Exit codes as the gateway's: 0 ok, 1 runtime
 * failure, 2 configuration or usage error.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Bridge } from './bridge.js';
import { type BridgeConfig, ConfigError, loadBridgeConfig } from './config.js';

const HELP = `tidegate-bridge: connects microcontrollers on serial ports to the Tidegate gateway

Usage:
  tidegate-bridge start --config FILE [--status-port N]
      Serve the ports in FILE: frames to MQTT (ACK after the gateway's PUBACK), commands back.
  tidegate-bridge check-config FILE
      Validate FILE and print every problem with its path.
  tidegate-bridge help | --help

Protocol: firmware-bridge/PROTOCOL.md. Configuration and counters: firmware-bridge/README.md.
Exit codes: 0 ok, 1 runtime failure, 2 configuration or usage error.
`;

function load(file: string | undefined, err: (s: string) => void): BridgeConfig | null {
  if (!file) {
    err('a configuration file is needed: --config FILE');
    return null;
  }
  try {
    return loadBridgeConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`invalid configuration in ${e.message}`);
      return null;
    }
    throw e;
  }
}

const errOut = (s: string) => process.stderr.write(`tidegate-bridge: ${s}\n`);

async function start(argv: string[]): Promise<number> {
  let values: { config?: string; 'status-port'?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, 'status-port': { type: 'string' } },
    }));
  } catch (e) {
    errOut(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const config = load(values.config, errOut);
  if (!config) return 2;
  if (values['status-port'] !== undefined) config.status.port = Number(values['status-port']);
  const log = pino({
    level: config.log.level,
    base: { bridgeId: config.bridgeId },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  const bridge = new Bridge(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    bridge.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await bridge.start();
  } catch (e) {
    errOut(`failed to start: ${e instanceof Error ? e.message : String(e)}`);
    await bridge.stop();
    return 1;
  }
  log.info(
    { statusPort: bridge.statusPort, ports: config.ports.length, gateway: config.gateway.url },
    'bridge started',
  );
  return -1;
}

function checkConfig(argv: string[]): number {
  const file = argv[0];
  const config = load(file, errOut);
  if (!config) return 2;
  process.stdout.write(
    `${file}: ok (${config.ports.length} port entr${config.ports.length === 1 ? 'y' : 'ies'})\n`,
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    case 'start':
      return start(rest);
    case 'check-config':
      return checkConfig(rest);
    default:
      process.stderr.write(`tidegate-bridge: unknown command "${name}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e) => {
    errOut(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  },
);
