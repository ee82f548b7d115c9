/**
 * A scenario file: devices, the upstream, gateway settings and a timeline of
 * faults. Example (device-sim/scenarios/crash-restart.yaml):
 *
 *   name: crash-restart
 *   upstream: file
 *   devices: { devices: 20, rate: 20, duration: 12s }
 *   timeline:
 *     - { at: 4s, action: kill-gateway }
 *     - { at: 5s, action: start-gateway }
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../options.js';

const at = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v, 'at');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const actionNames = [
  'kill-gateway',
  'stop-gateway',
  'start-gateway',
  'restart-gateway',
  'stop-upstream',
  'start-upstream',
  'drop-connections',
] as const;

export const stepSchema = z.strictObject({
  at: at.describe('time since the devices started'),
  action: z.enum(actionNames),
  fraction: z.number().gt(0).max(1).default(1).describe('drop-connections: share of the devices'),
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  upstream: z.enum(['file', 'mqtt', 'kafka']).default('file').describe('overridden by --upstream'),
  devices: z.record(z.string(), z.unknown()).default({}).describe('device options (see tidegate-sim run)'),
  gateway: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('merged into the gateway config (e.g. queue durability)'),
  sink: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('merged into the sink config (queue limits, batch, retry)'),
  timeline: z.array(stepSchema).default([]),
  drainTimeout: at
    .default(60_000)
    .describe('after the run, how long the gateway may take to empty its queue'),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type Step = z.output<typeof stepSchema>;

export function parseScenario(input: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid scenario ${source}:\n${lines.join('\n')}`);
  }
  return { ...r.data, timeline: [...r.data.timeline].sort((a, b) => a.at - b.at) };
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read scenario ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`scenario ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseScenario(doc, path);
}
