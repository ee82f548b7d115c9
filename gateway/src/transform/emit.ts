/**
 * How messages a route sends on its own (closed aggregate windows, the held
 * last message of a downsample interval) reach the queues: one commit, the
 * same counters as ingest, and a nudge to the forwarders; those that failed a
 * later step become dead letters as at ingest.
 */
import type { QueuedMessage } from '../contracts/record.js';
import { errorCode, errorMessage } from '../errors.js';
import type { HeldDeadLetter } from '../ingest/route.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { AppendOutcome, Queue } from '../queue/queue.js';

export function queueEmitter(
  queue: Pick<Queue, 'deadLetter'> & { append(group: QueuedMessage[]): Promise<AppendOutcome> },
  metrics: Metrics,
  log: Logger,
  notify: (sink: string) => void,
): (messages: QueuedMessage[], deadLetters?: HeldDeadLetter[]) => Promise<void> {
  return async (messages, deadLetters = []) => {
    // the same counters and table as a message refused at ingest (ingest.ts)
    for (const { sink, entry } of deadLetters) {
      metrics.dropped.inc({ sink, reason: 'dead_lettered' });
      log.warn(
        {
          route: entry.route,
          step: entry.stage,
          topic: entry.topic,
          device: entry.device,
          reason: entry.reason,
        },
        'dead-lettered',
      );
      await queue
        .deadLetter(entry)
        .catch((err) => metrics.errors.inc({ stage: 'queue', code: errorCode(err) }));
    }
    if (messages.length === 0) return;
    try {
      const out = await queue.append(messages);
      // a full reject-new queue is counted by the store (rejected_full); nobody can be pushed back here
      if (!out.ok) {
        log.warn({ n: messages.length }, 'route output refused: queue full');
        return;
      }
    } catch (err) {
      metrics.errors.inc({ stage: 'queue', code: errorCode(err) });
      log.error({ err: errorMessage(err) }, 'route output: queue append failed');
      return;
    }
    const sinks = new Set<string>();
    for (const m of messages) {
      sinks.add(m.sink);
      metrics.queued.inc({ sink: m.sink });
    }
    for (const s of sinks) notify(s);
  };
}
