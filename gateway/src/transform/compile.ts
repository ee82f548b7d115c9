/**
 * Routes from config to runnable form, once, at start: topic filters, decode,
 * where, steps, output encoding, and the clock of the steps that hold
 * messages. A route with nothing to do passes payloads through untouched.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { encode as cborEncode } from 'cbor-x';
import type { Config, RouteConfig } from '../config/schema.js';
import type { QueuedMessage } from '../contracts/record.js';
import {
  type CompiledRoute,
  type HeldDeadLetter,
  passThroughRoute,
  type RouteCompiler,
  type RouteContext,
  type RouteResult,
} from '../ingest/route.js';
import { compileFilter } from '../ingest/topic-filter.js';
import type { DeadLetterEntry } from '../queue/store.js';
import { compileCondition } from './condition.js';
import { decodePayload } from './decode.js';
import { RouteClock } from './route-clock.js';
import { encodeOutput, type RouteStep, runSteps, type StepsResult } from './run.js';
import { readState, STATE_FILE, StateFile } from './state-file.js';
import type { StepMessage } from './step.js';
import { createStep } from './steps/index.js';

function fingerprint(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12);
}

/** After the steps: the queued message, or why not. */
function finish(name: string, r: RouteConfig, m: StepMessage, raw: Buffer, done: StepsResult): RouteResult {
  if (done.kind !== 'keep') return done;
  const out = encodeOutput(m, raw);
  if (!out.ok) return { kind: 'dead-letter', reason: out.reason, step: 'encode' };
  const q: QueuedMessage = {
    sink: r.to,
    route: name,
    deviceId: m.deviceId,
    topic: m.topic,
    receivedAt: m.receivedAt,
    payload: out.payload,
    contentType: out.contentType,
  };
  return { kind: 'queue', messages: [q] };
}

/**
 * A held message has no payload of its own (a window is made of many), so the dead
 * letter keeps its value as CBOR, which carries every value a step can produce.
 */
function heldDeadLetter(
  route: string,
  m: StepMessage,
  res: { reason: string; step: string },
): DeadLetterEntry {
  let payload: Buffer;
  try {
    payload = Buffer.from(cborEncode(m.value));
  } catch {
    payload = Buffer.alloc(0);
  }
  return {
    reason: res.reason,
    stage: res.step,
    route,
    device: m.deviceId,
    topic: m.topic,
    receivedAt: m.receivedAt,
    payload,
  };
}

export function compileRoute(
  name: string,
  r: RouteConfig,
  gatewayId: string,
  clock: RouteClock,
  ctx?: RouteContext,
  others: CompiledRoute[] = [],
): CompiledRoute {
  const from = r.from === undefined ? [] : Array.isArray(r.from) ? r.from : [r.from];
  if (!r.unrouted && r.decode === 'raw' && r.steps.length === 0 && !r.where && r.encode === 'same') {
    return passThroughRoute(name, from, r.to);
  }
  const filters = from.map(compileFilter);
  // a catch-all takes what no other route's filters match ($ topics excepted, as with wildcards)
  const unrouted = (topic: string) =>
    topic.startsWith('$') || others.some((o) => o.match(topic)) ? null : {};
  const where = r.where ? compileCondition(r.where) : null;
  const stepCtx = { now: ctx?.now ?? Date.now };
  const steps: RouteStep[] = [];
  let holds = false;
  r.steps.forEach((s, i) => {
    const inst = createStep(s, stepCtx);
    steps.push({ run: inst.run, label: `steps.${i}:${s.type}` });
    if (!inst.held) return;
    holds = true;
    // what a held step lets go of later runs through the rest of the route and is committed
    const resume = async (due: StepMessage[]) => {
      const out: QueuedMessage[] = [];
      const dead: HeldDeadLetter[] = [];
      for (const m of due) {
        const res = finish(name, r, m, Buffer.alloc(0), await runSteps(steps, i + 1, m));
        if (res.kind === 'queue') out.push(...res.messages);
        else if (res.kind === 'dead-letter') dead.push({ sink: r.to, entry: heldDeadLetter(name, m, res) });
      }
      await ctx?.emit(out, dead);
    };
    clock.add(`${name}/steps.${i}/${fingerprint(s)}`, inst.held, resume);
  });

  const afterWhere = (m: StepMessage, raw: Buffer): RouteResult | Promise<RouteResult> => {
    if (holds) clock.touch();
    const done = runSteps(steps, 0, m);
    return done instanceof Promise
      ? done.then((d) => finish(name, r, m, raw, d))
      : finish(name, r, m, raw, done);
  };
  const whereFailed = (err: unknown): RouteResult => ({
    kind: 'dead-letter',
    reason: `where: ${(err as Error).message}`,
    step: 'where',
  });

  return {
    name,
    sink: r.to,
    match(topic) {
      if (r.unrouted) return unrouted(topic);
      for (const f of filters) {
        const p = f.match(topic);
        if (p) return p;
      }
      return null;
    },
    run(msg, params) {
      const d = decodePayload(msg.payload, r.decode);
      if (!d.ok) return { kind: 'dead-letter', reason: d.reason, step: 'decode' };
      const m: StepMessage = {
        value: d.value,
        topic: msg.topic,
        deviceId: params.deviceId ?? msg.clientId,
        params,
        receivedAt: msg.receivedAt,
        gatewayId,
        encode: r.encode === 'same' ? d.format : r.encode,
      };
      if (!where) return afterWhere(m, msg.payload);
      let ok: boolean | Promise<boolean>;
      try {
        ok = where(m);
      } catch (err) {
        return whereFailed(err);
      }
      if (typeof ok === 'boolean')
        return ok ? afterWhere(m, msg.payload) : { kind: 'filtered', step: 'where' };
      return ok.then(
        (yes) => (yes ? afterWhere(m, msg.payload) : { kind: 'filtered', step: 'where' }),
        whereFailed,
      );
    },
    stop: () => clock.stop(),
  };
}

/**
 * With a context (the gateway), held state is loaded from and saved to
 * dataDir/route-state.cbor and a clock sends what comes due; without one
 * (tests, tools) held steps keep their state in memory only.
 */
export const compileRoutes: RouteCompiler = (config: Config, ctx?: RouteContext) => {
  let state: StateFile | null = null;
  let saved: Record<string, unknown> = {};
  if (ctx) {
    const file = join(resolve(config.dataDir), STATE_FILE);
    state = new StateFile(file, (err) =>
      ctx.log.error({ err: (err as Error).message, file }, 'saving route state failed'),
    );
    try {
      saved = readState(file);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, file }, 'route state unreadable; starting empty');
    }
  }
  const clock = new RouteClock(state, saved, ctx?.now ?? Date.now, ctx?.log ?? null);
  const entries = Object.entries(config.routes);
  const routes = entries
    .filter(([, r]) => !r.unrouted)
    .map(([name, r]) => compileRoute(name, r, config.gatewayId, clock, ctx));
  const normal = [...routes];
  for (const [name, r] of entries) {
    if (r.unrouted) routes.push(compileRoute(name, r, config.gatewayId, clock, ctx, normal));
  }
  if (ctx) clock.start();
  return routes;
};
