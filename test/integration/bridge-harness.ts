/**
 * Helpers for the bridge tests (not a test file): a bridge in this process
 * against a real gateway child process, PTY pairs, waiting, reading records.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { Bridge } from '../../firmware-bridge/src/bridge.js';
import { parseBridgeConfig } from '../../firmware-bridge/src/config.js';
import { decodeCbor } from '../../firmware-bridge/src/protocol/index.js';
import type { RecordEnvelope } from '../../gateway/src/contracts/record.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { readFileSink } from '../support/records.js';

export const hasSocat = spawnSync('socat', ['-V']).status === 0;

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bridge in this process, status on an ephemeral port, quiet logs, no reopen jitter. */
export async function startBridge(
  gatewayUrl: string,
  ports: Array<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Promise<Bridge> {
  const config = parseBridgeConfig(
    {
      bridgeId: 'test-bridge',
      gateway: { url: gatewayUrl, reconnectPeriod: '200ms', ...((extra.gateway as object) ?? {}) },
      ports,
      reopen: { initialDelay: '50ms', maxDelay: '400ms' },
      status: { port: 0 },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'gateway')),
    },
    'test',
  );
  const bridge = new Bridge(config, pino({ level: process.env.BRIDGE_TEST_LOG ?? 'silent' }), 0);
  await bridge.start();
  return bridge;
}

export function mqttUrl(gw: GatewayProcess): string {
  return `mqtt://127.0.0.1:${gw.mqttPort}`;
}

/** Records of the gateway's file sink whose device is `deviceId`. */
export async function recordsOf(gw: GatewayProcess, deviceId: string): Promise<RecordEnvelope[]> {
  return (await readFileSink(join(gw.dataDir, 'out'))).filter((r) => r.deviceId === deviceId);
}

/** The CBOR payload of a record (the bridge publishes DATA bodies as they came). */
export function cborOf(r: RecordEnvelope): unknown {
  const d = decodeCbor(Buffer.from(r.payloadBase64 ?? '', 'base64'));
  if (!d.ok) throw new Error(`record ${r.id} is not CBOR`);
  return d.value;
}

/** Gateway config: every topic to the file sink, flushed quickly. */
export const gatewayConfig = {
  sinks: { local: { type: 'file', batch: { linger: '10ms' } } },
  routes: { all: { from: 'devices/#', to: 'local' } },
};
