/**
 * Every stage counts the same things here, in one registry per gateway
 * (not prom-client's global one, so two gateways in one test process stay apart).
 * The status page, /api/status and /metrics all read these same objects.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type DropReason =
  | 'dropped_full'
  | 'rejected_full'
  | 'expired'
  | 'dead_lettered'
  | 'too_large'
  | 'filtered'
  | 'unrouted';

export function createMetrics() {
  const registry = new Registry();
  const reg = [registry];
  // process_* (RSS, CPU) and nodejs_* (event-loop delay, heap) for the status page and /metrics
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    publishReceived: new Counter({
      name: 'tidegate_mqtt_publish_received_total',
      help: 'PUBLISH packets received from MQTT clients, by QoS',
      labelNames: ['qos'] as const,
      registers: reg,
    }),
    received: new Counter({
      name: 'tidegate_messages_received_total',
      help: 'Messages matched by a route',
      labelNames: ['route'] as const,
      registers: reg,
    }),
    routeOutcomes: new Counter({
      name: 'tidegate_route_messages_total',
      help: 'Messages a route handled, by outcome: passed (queued), filtered, failed (dead-lettered)',
      labelNames: ['route', 'outcome'] as const,
      registers: reg,
    }),
    unrouted: new Counter({
      name: 'tidegate_messages_unrouted_total',
      help: 'Messages that matched no route',
      registers: reg,
    }),
    queued: new Counter({
      name: 'tidegate_messages_queued_total',
      help: 'Messages committed to a sink queue',
      labelNames: ['sink'] as const,
      registers: reg,
    }),
    sent: new Counter({
      name: 'tidegate_messages_sent_total',
      help: 'Messages acknowledged by the upstream and removed from the queue',
      labelNames: ['sink'] as const,
      registers: reg,
    }),
    dropped: new Counter({
      name: 'tidegate_messages_dropped_total',
      help: 'Messages that left the pipeline without reaching the upstream, by reason',
      labelNames: ['sink', 'reason'] as const,
      registers: reg,
    }),
    errors: new Counter({
      name: 'tidegate_errors_total',
      help: 'Errors by stage and code',
      labelNames: ['stage', 'code'] as const,
      registers: reg,
    }),
    clients: new Gauge({
      name: 'tidegate_clients_connected',
      help: 'Connected MQTT clients',
      registers: reg,
    }),
    queueBytes: new Gauge({
      name: 'tidegate_queue_bytes',
      help: 'Bytes held in a sink queue (counted against queue.maxBytes)',
      labelNames: ['sink'] as const,
      registers: reg,
    }),
    queueMessages: new Gauge({
      name: 'tidegate_queue_messages',
      help: 'Messages held in a sink queue',
      labelNames: ['sink'] as const,
      registers: reg,
    }),
    queueOldestAge: new Gauge({
      name: 'tidegate_queue_oldest_age_seconds',
      help: 'Age of the oldest message in a sink queue',
      labelNames: ['sink'] as const,
      registers: reg,
    }),
    sinkUp: new Gauge({
      name: 'tidegate_sink_up',
      help: '1 when the last upstream send succeeded',
      labelNames: ['sink'] as const,
      registers: reg,
    }),
    commitSeconds: new Histogram({
      name: 'tidegate_queue_commit_seconds',
      help: 'Duration of one group commit (including fsync)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: reg,
    }),
    commitGroups: new Histogram({
      name: 'tidegate_queue_commit_messages',
      help: 'Publishes served by one group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: reg,
    }),
    refused: new Counter({
      name: 'tidegate_mqtt_refused_total',
      help: 'CONNECT, PUBLISH and SUBSCRIBE refused by identity, ACL or limits, by reason',
      labelNames: ['what', 'reason'] as const,
      registers: reg,
    }),
    throttled: new Counter({
      name: 'tidegate_mqtt_throttled_total',
      help: 'Times a client was paused for going over mqtt.limits.messageRate',
      registers: reg,
    }),
    sessionDropped: new Counter({
      name: 'tidegate_mqtt_session_dropped_total',
      help: 'Queued QoS 1/2 messages of offline persistent sessions dropped over mqtt.sessions.maxQueuedPerClient',
      registers: reg,
    }),
    sendSeconds: new Histogram({
      name: 'tidegate_sink_send_seconds',
      help: 'Duration of one upstream batch send',
      labelNames: ['sink'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: reg,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
