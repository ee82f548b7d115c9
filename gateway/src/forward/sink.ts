/**
 * What a sink is: something that takes a batch of queued records and resolves
 * only once its upstream has acknowledged all of them. A sink knows nothing of
 * the broker or the queue; the forwarder owns ordering, retries and deletion.
 */
import type { StoredRecord } from '../contracts/record.js';
import type { Logger } from '../observe/log.js';

export interface SendContext {
  gatewayId: string;
  /** aborted when the forwarder's send deadline passes or the gateway stops */
  signal: AbortSignal;
}

export interface SendResult {
  /** records the upstream will never take (too large, refused as invalid): moved to dead letters */
  deadLetters?: Array<{ seq: number; reason: string }>;
}

export interface Sink {
  readonly type: string;
  start(): Promise<void>;
  send(records: StoredRecord[], ctx: SendContext): Promise<SendResult | undefined>;
  stop(): Promise<void>;
  /** extra facts for the status page (connected, endpoint, ...) */
  describe?(): Record<string, unknown>;
}

export interface SinkDeps {
  gatewayId: string;
  dataDir: string;
  log: Logger;
}

export type SinkFactory<C> = (name: string, config: C, deps: SinkDeps) => Sink;
