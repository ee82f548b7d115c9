/**
 * Routes from config to runnable form, once, at start: topic filters, decode,
 * where, steps, output encoding. A route with nothing to do passes payloads
 * through untouched.
 */
import { encode as cborEncode } from 'cbor-x';
import type { Config, RouteConfig } from '../config/schema.js';
import type { ContentType } from '../contracts/record.js';
import { type CompiledRoute, passThroughRoute, type RouteCompiler } from '../ingest/route.js';
import { compileFilter } from '../ingest/topic-filter.js';
import { compileCondition } from './condition.js';
import { decodePayload } from './decode.js';
import type { StepMessage } from './step.js';
import { createStep } from './steps/index.js';

function output(m: StepMessage, raw: Buffer): { payload: Buffer; contentType: ContentType } {
  if (m.encode === 'json')
    return { payload: Buffer.from(JSON.stringify(m.value)), contentType: 'application/json' };
  if (m.encode === 'cbor')
    return { payload: Buffer.from(cborEncode(m.value)), contentType: 'application/cbor' };
  return { payload: Buffer.isBuffer(m.value) ? m.value : raw, contentType: 'application/octet-stream' };
}

export function compileRoute(name: string, r: RouteConfig, gatewayId: string): CompiledRoute {
  const from = Array.isArray(r.from) ? r.from : [r.from];
  if (r.decode === 'raw' && r.steps.length === 0 && !r.where && r.encode === 'same') {
    return passThroughRoute(name, from, r.to);
  }
  const filters = from.map(compileFilter);
  const where = r.where ? compileCondition(r.where) : null;
  const steps = r.steps.map((s, i) => ({ run: createStep(s), label: `steps.${i}:${s.type}` }));
  return {
    name,
    sink: r.to,
    match(topic) {
      for (const f of filters) {
        const p = f.match(topic);
        if (p) return p;
      }
      return null;
    },
    run(msg, params) {
      const deviceId = params.deviceId ?? msg.clientId;
      const d = decodePayload(msg.payload, r.decode);
      if (!d.ok) return { kind: 'dead-letter', reason: d.reason, step: 'decode' };
      const m: StepMessage = {
        value: d.value,
        topic: msg.topic,
        deviceId,
        params,
        receivedAt: msg.receivedAt,
        gatewayId,
        encode: r.encode === 'same' ? d.format : r.encode,
      };
      if (where && !where(m)) return { kind: 'filtered', step: 'where' };
      for (const s of steps) {
        const o = s.run(m);
        if (o.keep) continue;
        if ('filtered' in o) return { kind: 'filtered', step: s.label };
        return { kind: 'dead-letter', reason: o.error, step: s.label };
      }
      const out = output(m, msg.payload);
      return {
        kind: 'queue',
        messages: [
          { sink: r.to, route: name, deviceId, topic: msg.topic, receivedAt: msg.receivedAt, ...out },
        ],
      };
    },
  };
}

export const compileRoutes: RouteCompiler = (config: Config) =>
  Object.entries(config.routes).map(([name, r]) => compileRoute(name, r, config.gatewayId));
