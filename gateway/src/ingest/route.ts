/**
 * A route decides, at ingest, whether a message goes to a sink and in what
 * shape. `compileRoutes` turns config into matchers once, at start.
 */
import type { Config } from '../config/schema.js';
import type { ContentType, QueuedMessage } from '../contracts/record.js';
import type { Logger } from '../observe/log.js';
import type { DeadLetterEntry } from '../queue/store.js';
import { compileFilter, type TopicFilter } from './topic-filter.js';

/** A PUBLISH as it enters the pipeline. */
export interface IngestMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT client id of the publisher; empty for the broker's own messages */
  clientId: string;
  receivedAt: number;
}

/** What a route decided for one message. */
export type RouteResult =
  | { kind: 'queue'; messages: QueuedMessage[] }
  | { kind: 'filtered'; step: string }
  | { kind: 'dead-letter'; reason: string; step: string };

export interface CompiledRoute {
  readonly name: string;
  readonly sink: string;
  match(topic: string): Record<string, string> | null;
  run(msg: IngestMessage, params: Record<string, string>): RouteResult | Promise<RouteResult>;
  /** flush state (aggregate windows) on shutdown */
  stop?(): Promise<void>;
}

export function sniffContentType(payload: Buffer): ContentType {
  for (let i = 0; i < payload.length && i < 16; i++) {
    const c = payload[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x5b ? 'application/json' : 'application/octet-stream';
  }
  return 'application/octet-stream';
}

/** A route without steps: the payload goes to the sink as it came. */
export function passThroughRoute(name: string, from: string[], sink: string): CompiledRoute {
  const filters: TopicFilter[] = from.map(compileFilter);
  return {
    name,
    sink,
    match(topic) {
      for (const f of filters) {
        const p = f.match(topic);
        if (p) return p;
      }
      return null;
    },
    run(msg, params) {
      return {
        kind: 'queue',
        messages: [
          {
            sink,
            route: name,
            deviceId: params.deviceId ?? msg.clientId,
            topic: msg.topic,
            receivedAt: msg.receivedAt,
            contentType: sniffContentType(msg.payload),
            payload: msg.payload,
          },
        ],
      };
    },
  };
}

/** A message a route let go of on its own (a closed window) that then failed a later step. */
export interface HeldDeadLetter {
  sink: string;
  entry: DeadLetterEntry;
}

/** What a route compiler gets from the composition root besides the config. */
export interface RouteContext {
  /**
   * commits messages a route sends on its own (closed aggregate windows) and wakes their
   * forwarders; those that failed a step after the holding one go to the dead letters, counted
   */
  emit(messages: QueuedMessage[], deadLetters?: HeldDeadLetter[]): Promise<void>;
  log: Logger;
  /** the clock of time-based steps; Date.now unless a test fakes it */
  now?: () => number;
}

export type RouteCompiler = (config: Config, ctx?: RouteContext) => CompiledRoute[];

export const compilePassThroughRoutes: RouteCompiler = (config) =>
  Object.entries(config.routes).map(([name, r]) =>
    passThroughRoute(name, r.from === undefined ? [] : Array.isArray(r.from) ? r.from : [r.from], r.to),
  );
