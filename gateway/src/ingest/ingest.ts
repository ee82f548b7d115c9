/**
 * Ingest: route -> transform -> queue.append, then let the broker acknowledge.
 * `accept` resolves only after every queue the message goes to has committed it
 * (or a route deliberately dropped it, counted), which is what makes PUBACK
 * mean durable.
 */
import type { QueuedMessage } from '../contracts/record.js';
import { errorCode, errorMessage } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import type { Queue } from '../queue/queue.js';
import type { CompiledRoute, IngestMessage } from './route.js';

export type IngestOutcome = { accepted: true } | { accepted: false; reason: 'queue_full' | 'queue_failed' };

export class Ingest {
  constructor(
    private readonly routes: CompiledRoute[],
    private readonly queue: Queue,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly onQueued: (sinks: Set<string>) => void,
  ) {}

  async accept(msg: IngestMessage): Promise<IngestOutcome> {
    this.metrics.publishReceived.inc({ qos: String(msg.qos) });
    const out: QueuedMessage[] = [];
    let matched = false;
    for (const route of this.routes) {
      const params = route.match(msg.topic);
      if (!params) continue;
      matched = true;
      this.metrics.received.inc({ route: route.name });
      try {
        const result = await route.run(msg, params);
        if (result.kind === 'queue') {
          out.push(...result.messages);
          this.metrics.routeOutcomes.inc({ route: route.name, outcome: 'passed' });
        } else if (result.kind === 'filtered') {
          this.metrics.dropped.inc({ sink: route.sink, reason: 'filtered' });
          this.metrics.routeOutcomes.inc({ route: route.name, outcome: 'filtered' });
        } else {
          this.metrics.routeOutcomes.inc({ route: route.name, outcome: 'failed' });
          await this.deadLetter(route, msg, params, result.reason, result.step);
        }
      } catch (err) {
        this.metrics.errors.inc({ stage: 'transform', code: errorCode(err) });
        this.metrics.routeOutcomes.inc({ route: route.name, outcome: 'failed' });
        await this.deadLetter(route, msg, params, `route failed: ${errorMessage(err)}`, 'route');
      }
    }
    if (!matched) this.metrics.unrouted.inc();
    if (out.length === 0) return { accepted: true };
    try {
      const outcome = await this.queue.append(out);
      if (!outcome.ok) return { accepted: false, reason: 'queue_full' };
    } catch (err) {
      this.metrics.errors.inc({ stage: 'queue', code: errorCode(err) });
      this.log.error({ err: errorMessage(err), topic: msg.topic }, 'queue append failed');
      return { accepted: false, reason: 'queue_failed' };
    }
    const sinks = new Set<string>();
    for (const m of out) {
      sinks.add(m.sink);
      this.metrics.queued.inc({ sink: m.sink });
    }
    this.onQueued(sinks);
    return { accepted: true };
  }

  private async deadLetter(
    route: CompiledRoute,
    msg: IngestMessage,
    params: Record<string, string>,
    reason: string,
    step: string,
  ): Promise<void> {
    // the same device id the route's records carry: the +deviceId wildcard when the filter names one
    const device = params.deviceId ?? msg.clientId;
    this.metrics.dropped.inc({ sink: route.sink, reason: 'dead_lettered' });
    this.log.warn({ route: route.name, step, topic: msg.topic, device, reason }, 'dead-lettered');
    await this.queue
      .deadLetter({
        reason,
        stage: step,
        route: route.name,
        device,
        topic: msg.topic,
        receivedAt: msg.receivedAt,
        payload: msg.payload,
      })
      .catch((err) => this.metrics.errors.inc({ stage: 'queue', code: errorCode(err) }));
  }
}
