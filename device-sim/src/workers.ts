/**
 * `--workers N`: the fleet split over N worker threads (device i goes to
 * worker i % N), each with its own event loop, so one process can use every
 * core. With N <= 1 the fleet runs on the main thread. Either way the caller
 * gets one handle: live stats, halt, drop connections, and the merged result.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Fleet, type FleetResult, type FleetSlice } from './fleet.js';
import { ledgerFromJSON, ledgerToJSON, mergeLedgers } from './ledger.js';
import type { FleetConfig } from './options.js';
import { FleetStats, type StatsData } from './stats.js';

export interface FleetHandle {
  /** live counters over all workers */
  stats(): FleetStats;
  halt(): void;
  dropConnections(fraction: number): void;
  done: Promise<FleetResult>;
}

type ToWorker = { type: 'halt' } | { type: 'drop'; fraction: number };
type FromWorker =
  | { type: 'stats'; stats: StatsData }
  | { type: 'result'; ledger: unknown; stats: StatsData; publishMs: number; simLoopP99Ms: number }
  | { type: 'error'; message: string };

export function startFleet(config: FleetConfig, workers = 1): FleetHandle {
  if (workers <= 1) {
    const fleet = new Fleet(config);
    return {
      stats: () => fleet.stats,
      halt: () => fleet.halt(),
      dropConnections: (f) => fleet.dropConnections(f),
      done: fleet.run(),
    };
  }
  const live: StatsData[] = [];
  const threads: Worker[] = [];
  const results: Promise<FleetResult>[] = [];
  for (let w = 0; w < workers; w++) {
    const slice: FleetSlice = { workers, worker: w };
    const t = new Worker(new URL('./workers.js', import.meta.url), { workerData: { config, slice } });
    threads.push(t);
    results.push(
      new Promise<FleetResult>((resolve, reject) => {
        t.on('message', (m: FromWorker) => {
          if (m.type === 'stats') live[w] = m.stats;
          else if (m.type === 'result') {
            live[w] = m.stats;
            resolve({
              ledger: ledgerFromJSON(m.ledger),
              stats: m.stats,
              publishMs: m.publishMs,
              simLoopP99Ms: m.simLoopP99Ms,
            });
          } else reject(new Error(`worker ${w}: ${m.message}`));
        });
        t.on('error', reject);
        t.on('exit', (code) => reject(new Error(`worker ${w} exited with ${code} before its result`)));
      }),
    );
  }
  const send = (m: ToWorker) => {
    for (const t of threads) t.postMessage(m);
  };
  const done = Promise.all(results).then((parts) => {
    const stats = new FleetStats();
    for (const p of parts) stats.add(p.stats);
    const ledger = parts.map((p) => p.ledger).reduce((a, b) => mergeLedgers(a, b));
    return {
      ledger,
      stats: stats.toJSON(),
      publishMs: Math.max(...parts.map((p) => p.publishMs)),
      simLoopP99Ms: Math.max(...parts.map((p) => p.simLoopP99Ms)),
    };
  });
  return {
    stats: () => {
      const s = new FleetStats();
      for (const d of live) if (d) s.add(d);
      return s;
    },
    halt: () => send({ type: 'halt' }),
    dropConnections: (fraction) => send({ type: 'drop', fraction }),
    done,
  };
}

if (!isMainThread && parentPort && (workerData as { slice?: FleetSlice })?.slice) {
  const port = parentPort;
  const { config, slice } = workerData as { config: FleetConfig; slice: FleetSlice };
  const fleet = new Fleet(config, slice);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'halt') fleet.halt();
    else fleet.dropConnections(m.fraction);
  });
  const tick = setInterval(() => port.postMessage({ type: 'stats', stats: fleet.stats.toJSON() }), 500);
  fleet.run().then(
    (r) => {
      clearInterval(tick);
      port.postMessage({
        type: 'result',
        ledger: ledgerToJSON(r.ledger),
        stats: r.stats,
        publishMs: r.publishMs,
        simLoopP99Ms: r.simLoopP99Ms,
      });
      port.close();
    },
    (err: Error) => {
      clearInterval(tick);
      port.postMessage({ type: 'error', message: err.message });
      port.close();
    },
  );
}
