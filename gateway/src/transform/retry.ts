/**
 * Retrying dead letters: a message refused at ingest goes through its route
 * again, as configured now (after the expression or the device was fixed); a
 * record a sink refused goes back to that sink's queue as it was. What is
 * queued and the removal of its dead letter are one transaction, so a retry
 * interrupted midway neither loses nor doubles a message. Safe while the
 * gateway runs: SQLite serialises the writers and the forwarders pick the
 * new rows up at their next poll.
 */
import type { Config } from '../config/schema.js';
import type { ContentType, QueuedMessage } from '../contracts/record.js';
import type { CompiledRoute } from '../ingest/route.js';
import { type DeadLetterRow, deleteDeadLetter } from '../queue/dead-letters.js';
import type { QueueStore } from '../queue/store.js';
import { compileRoutes } from './compile.js';

export interface RetryOutcome {
  id: number;
  result: 'queued' | 'filtered' | 'failed' | 'skipped';
  detail: string;
}

/** Routes whose steps hold messages over time: a retry outside the gateway would bypass their state. */
function holds(config: Config, route: string): boolean {
  return (config.routes[route]?.steps ?? []).some(
    (s) => s.type === 'aggregate' || (s.type === 'downsample' && s.keep === 'last'),
  );
}

async function rerun(
  config: Config,
  routes: Map<string, CompiledRoute>,
  row: DeadLetterRow,
): Promise<QueuedMessage[] | Omit<RetryOutcome, 'id'>> {
  const payload = row.payload ?? Buffer.alloc(0);
  const topic = row.topic ?? '';
  if (row.sink !== null) {
    if (!(row.sink in config.sinks)) return { result: 'skipped', detail: `no sink named "${row.sink}" now` };
    return [
      {
        sink: row.sink,
        route: row.route ?? '',
        deviceId: row.device ?? '',
        topic,
        receivedAt: row.received ?? row.at,
        contentType: (row.content_type ?? 'application/octet-stream') as ContentType,
        payload,
      },
    ];
  }
  const route = row.route === null ? undefined : routes.get(row.route);
  if (!route) return { result: 'skipped', detail: `no route named "${row.route}" now` };
  if (holds(config, route.name)) {
    return {
      result: 'skipped',
      detail: `route "${route.name}" holds messages over time (aggregate/downsample last)`,
    };
  }
  const params = route.match(topic);
  if (!params)
    return { result: 'skipped', detail: `topic "${topic}" no longer matches route "${route.name}"` };
  const res = await route.run(
    { topic, payload, qos: 1, retain: false, clientId: row.device ?? '', receivedAt: row.received ?? row.at },
    params,
  );
  if (res.kind === 'queue') return res.messages;
  if (res.kind === 'filtered') return { result: 'filtered', detail: `filtered by ${res.step}` };
  return { result: 'failed', detail: `${res.step}: ${res.reason}` };
}

export async function retryDeadLetters(
  config: Config,
  store: QueueStore,
  rows: DeadLetterRow[],
): Promise<RetryOutcome[]> {
  const routes = new Map(compileRoutes(config).map((r) => [r.name, r]));
  const out: RetryOutcome[] = [];
  for (const row of rows) {
    const r = await rerun(config, routes, row);
    if (!Array.isArray(r)) {
      // a route that now filters the message on purpose has decided: the dead letter goes
      if (r.result === 'filtered') deleteDeadLetter(store.db, row.id);
      out.push({ id: row.id, ...r });
      continue;
    }
    const queued = store.db.transaction(() => {
      const report = store.commit([r], []);
      if (!report.groups[0]?.ok) return false;
      deleteDeadLetter(store.db, row.id);
      return true;
    })();
    out.push(
      queued
        ? { id: row.id, result: 'queued', detail: `to ${[...new Set(r.map((m) => m.sink))].join(', ')}` }
        : { id: row.id, result: 'failed', detail: 'queue full (reject-new)' },
    );
  }
  return out;
}
