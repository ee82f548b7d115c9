/**
 * tidegate deadletters list | export | retry: what was refused and why (counts
 * per reason, newest rows), all of it as NDJSON with the original payloads,
 * and a second try through the routes as configured now.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { bytes, ms } from '../config/units.js';
import {
  countDeadLetters,
  type DeadLetterFilter,
  type DeadLetterRow,
  readDeadLetters,
  trimmedDeadLetters,
} from '../queue/dead-letters.js';
import { QueueStore, type SinkLimits } from '../queue/store.js';
import { retryDeadLetters } from '../transform/retry.js';
import type { Command } from './command.js';

type Out = (s: string) => void;

const USAGE = `deadletters list|export|retry [--config FILE] [--data-dir DIR] [--route R] [--reason TEXT] [--id N]... [--limit N] [--all]`;

function row(r: DeadLetterRow): Record<string, unknown> {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    reason: r.reason,
    stage: r.stage,
    route: r.route,
    sink: r.sink,
    device: r.device,
    topic: r.topic,
    receivedAt: r.received,
    contentType: r.content_type,
    size: r.size,
    payloadBase64: r.payload ? r.payload.toString('base64') : null,
  };
}

function list(db: Database.Database, f: DeadLetterFilter, out: Out): void {
  const counts = countDeadLetters(db, f);
  const total = counts.reduce((a, c) => a + c.n, 0);
  out(`${total} dead letter(s)`);
  const trimmed = trimmedDeadLetters(db);
  // the bound keeps the newest rows; say how many older ones it removed so none go unnoticed
  if (trimmed > 0)
    out(`${trimmed} older dead letter(s) removed by the table's bound (newest 10,000 rows, 64 MiB)`);
  if (total === 0) return;
  out('count  bytes      last                      route         stage              reason');
  for (const c of counts) {
    out(
      `${String(c.n).padStart(5)}  ${String(c.bytes).padStart(9)}  ${new Date(c.last).toISOString()}  ${(c.route ?? '-').padEnd(12)}  ${c.stage.padEnd(17)}  ${c.reason}`,
    );
  }
  out('');
  out('newest:');
  for (const r of readDeadLetters(db, { ...f, limit: f.limit ?? 20 })) {
    out(
      `#${r.id}  ${new Date(r.at).toISOString()}  ${r.route ?? '-'}/${r.stage}  device=${r.device ?? '-'}  topic=${r.topic ?? '-'}  ${r.size} B  ${r.reason}`,
    );
  }
}

function limits(config: Config): Record<string, SinkLimits> {
  const l: Record<string, SinkLimits> = {};
  for (const [name, s] of Object.entries(config.sinks)) {
    l[name] = { maxBytes: bytes(s.queue.maxBytes), maxAgeMs: ms(s.queue.maxAge), whenFull: s.queue.whenFull };
  }
  return l;
}

export async function deadletters(argv: string[], out: Out, err: Out): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    err(`tidegate: ${(e as Error).message}\nusage: tidegate ${USAGE}`);
    return 2;
  }
  const { action, values } = parsed;
  if (!['list', 'export', 'retry'].includes(action ?? '')) {
    err(`usage: tidegate ${USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(values.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`tidegate: invalid configuration in ${e.message}`);
      return 2;
    }
    throw e;
  }
  const file = join(resolve(values['data-dir'] ?? config.dataDir), 'tidegate.db');
  if (!existsSync(file)) {
    err(`tidegate: no queue at ${file} (give --config or --data-dir)`);
    return 1;
  }
  const ids = (values.id ?? []).map(Number);
  if (ids.some((n) => !Number.isInteger(n) || n <= 0)) {
    err('tidegate: --id takes a positive whole number');
    return 2;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    err('tidegate: --limit takes a positive whole number');
    return 2;
  }
  const f: DeadLetterFilter = { route: values.route, reason: values.reason, ids, limit };
  if (action === 'retry') {
    if (ids.length === 0 && f.route === undefined && f.reason === undefined && !values.all) {
      err('tidegate: retry needs --id, --route, --reason or --all');
      return 2;
    }
    const store = new QueueStore({ file, durability: config.queue.durability, sinks: limits(config) });
    try {
      const results = await retryDeadLetters(config, store, readDeadLetters(store.db, f));
      for (const r of results) out(`#${r.id} ${r.result}: ${r.detail}`);
      const by = (k: string) => results.filter((r) => r.result === k).length;
      out(
        `retried ${results.length}: ${by('queued')} queued, ${by('filtered')} filtered, ${by('failed')} failed, ${by('skipped')} skipped`,
      );
      return by('failed') + by('skipped') > 0 ? 1 : 0;
    } finally {
      store.close();
    }
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    if (action === 'list') list(db, f, out);
    else for (const r of readDeadLetters(db, f)) out(JSON.stringify(row(r)));
    return 0;
  } finally {
    db.close();
  }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      route: { type: 'string' },
      reason: { type: 'string' },
      id: { type: 'string', multiple: true },
      limit: { type: 'string' },
      all: { type: 'boolean' },
    },
  });
  return { action: positionals[0], values };
}

export const deadlettersCommand: Command = {
  usage: USAGE,
  summary:
    'Dead letters: list (counts per reason, newest rows), export (NDJSON with payloads), retry (through the routes as configured now; exit 1 if some still fail).',
  run: (argv) =>
    deadletters(
      argv,
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stderr.write(`${s}\n`),
    ),
};
