/**
 * Running a message through a route's steps, synchronously until a step
 * returns a promise (a JSONata expression), so routes of field steps and
 * fast-path conditions cost no promise per message.
 */
import { encode as cborEncode } from 'cbor-x';
import type { ContentType } from '../contracts/record.js';
import type { Step, StepMessage, StepOutcome } from './step.js';

export interface RouteStep {
  run: Step;
  /** where counters and dead letters say it happened: `steps.2:map` */
  label: string;
}

export type StepsResult =
  | { kind: 'keep' }
  | { kind: 'filtered'; step: string }
  | { kind: 'dead-letter'; reason: string; step: string };

const KEPT: StepsResult = { kind: 'keep' };

function settle(o: StepOutcome, label: string): StepsResult | null {
  if (o.keep) return null;
  if ('filtered' in o) return { kind: 'filtered', step: label };
  return { kind: 'dead-letter', reason: o.error, step: label };
}

function failed(err: unknown, label: string): StepsResult {
  return { kind: 'dead-letter', reason: err instanceof Error ? err.message : String(err), step: label };
}

async function finishAsync(
  steps: RouteStep[],
  i: number,
  pending: StepOutcome | Promise<StepOutcome>,
  m: StepMessage,
): Promise<StepsResult> {
  for (;;) {
    const label = steps[i]!.label;
    let o: StepOutcome;
    try {
      o = await pending;
    } catch (err) {
      return failed(err, label);
    }
    const done = settle(o, label);
    if (done) return done;
    if (++i >= steps.length) return KEPT;
    try {
      pending = steps[i]!.run(m);
    } catch (err) {
      return failed(err, steps[i]!.label);
    }
  }
}

/** Runs steps[from..] on m; a step that throws fails the message with its error. */
export function runSteps(
  steps: RouteStep[],
  from: number,
  m: StepMessage,
): StepsResult | Promise<StepsResult> {
  for (let i = from; i < steps.length; i++) {
    const s = steps[i]!;
    let o: StepOutcome | Promise<StepOutcome>;
    try {
      o = s.run(m);
    } catch (err) {
      return failed(err, s.label);
    }
    if (o instanceof Promise) return finishAsync(steps, i, o, m);
    const done = settle(o, s.label);
    if (done) return done;
  }
  return KEPT;
}

export type Encoded = { ok: true; payload: Buffer; contentType: ContentType } | { ok: false; reason: string };

/** The output bytes; a value the format cannot carry (undefined, a BigInt in JSON) is a failure, not a throw. */
export function encodeOutput(m: StepMessage, raw: Buffer): Encoded {
  try {
    if (m.encode === 'json') {
      const text = JSON.stringify(m.value);
      if (text === undefined) return { ok: false, reason: 'the value cannot be written as JSON' };
      return { ok: true, payload: Buffer.from(text), contentType: 'application/json' };
    }
    if (m.encode === 'cbor') {
      return { ok: true, payload: Buffer.from(cborEncode(m.value)), contentType: 'application/cbor' };
    }
    const payload = Buffer.isBuffer(m.value) ? m.value : raw;
    return { ok: true, payload, contentType: 'application/octet-stream' };
  } catch (err) {
    return { ok: false, reason: `cannot encode the output as ${m.encode}: ${(err as Error).message}` };
  }
}
