/**
 * The writer thread: owns the only write connection, so fsyncs happen here and
 * never on the broker's event loop. One message in, one transaction, one reply.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { QueuedMessage } from '../contracts/record.js';
import { type DeadLetterEntry, QueueStore, type RemoveOp, type StoreOptions } from './store.js';

export type WorkerRequest =
  | {
      type: 'commit';
      id: number;
      groups: QueuedMessage[][];
      removals: RemoveOp[];
      deadLetters: DeadLetterEntry[];
    }
  | { type: 'retention'; id: number }
  | { type: 'close'; id: number };

export type WorkerReply =
  | { type: 'ready'; lastSeq: number }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'failed'; id: number; message: string; code?: string };

if (!parentPort) throw new Error('queue/worker.ts must run as a worker thread');
const port = parentPort;

let store: QueueStore;
try {
  store = new QueueStore(workerData as StoreOptions);
  port.postMessage({ type: 'ready', lastSeq: -1 } satisfies WorkerReply);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  port.postMessage({ type: 'failed', id: 0, message: e.message, code: e.code } satisfies WorkerReply);
  process.exit(1);
}

port.on('message', (req: WorkerRequest) => {
  try {
    let result: unknown;
    switch (req.type) {
      case 'commit':
        // structured clone turns Buffers into Uint8Arrays; SQLite stores either as a BLOB
        result = store.commit(req.groups, req.removals, req.deadLetters);
        break;
      case 'retention':
        result = { expired: store.expire(), reclaimedPages: store.reclaim() };
        break;
      case 'close':
        store.close();
        result = null;
        break;
    }
    port.postMessage({ type: 'done', id: req.id, result } satisfies WorkerReply);
    if (req.type === 'close') port.close();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    port.postMessage({ type: 'failed', id: req.id, message: e.message, code: e.code } satisfies WorkerReply);
  }
});
