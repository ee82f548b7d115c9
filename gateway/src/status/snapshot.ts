/**
 * The one status document: /api/status returns it, the page renders it, and
 * /metrics exposes the same counters (from the same registry).
 */
import type { Metrics } from '../observe/metrics.js';

export interface SinkStatus {
  name: string;
  type: string;
  state: string;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
  backlogMessages: number;
  backlogBytes: number;
  maxBytes: number;
  fillRatio: number;
  oldestAgeSeconds: number | null;
  drainRate: number;
  etaSeconds: number | null;
  queued: number;
  sent: number;
  dropped: Record<string, number>;
  details: Record<string, unknown>;
}

export interface StatusSnapshot {
  gatewayId: string;
  version: string;
  startedAt: number;
  uptimeSeconds: number;
  now: number;
  clientsConnected: number;
  received: number;
  unrouted: number;
  routes: Array<{
    name: string;
    sink: string;
    matched: number;
    passed: number;
    filtered: number;
    failed: number;
  }>;
  sinks: SinkStatus[];
  queue: { file: string; fileBytes: number; deadLetters: number };
  errors: Record<string, number>;
  warnings: string[];
}

type Values = Array<{ value: number; labels: Partial<Record<string, string | number>> }>;

export async function counterValues(metric: {
  get(): Promise<{ values: Values }> | { values: Values };
}): Promise<Values> {
  return (await metric.get()).values;
}

export function sumWhere(values: Values, match: Record<string, string>): number {
  let total = 0;
  for (const v of values) {
    if (Object.entries(match).every(([k, want]) => String(v.labels[k]) === want)) total += v.value;
  }
  return total;
}

export async function metricsTotals(metrics: Metrics) {
  return {
    received: await counterValues(metrics.received),
    routeOutcomes: await counterValues(metrics.routeOutcomes),
    queued: await counterValues(metrics.queued),
    sent: await counterValues(metrics.sent),
    dropped: await counterValues(metrics.dropped),
    errors: await counterValues(metrics.errors),
    unrouted: await counterValues(metrics.unrouted),
    clients: await counterValues(metrics.clients),
  };
}
