/** Building blocks shared by every part's config schema. */
import { z } from 'zod';

export const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration like 500ms, 30s, 5m, 2h, 7d'),
  ])
  .describe('milliseconds, or a string with a unit: 500ms, 30s, 5m, 2h, 7d');

export const bytes = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(B|KB|MB|GB|KiB|MiB|GiB)$/, 'expected a size like 512KB, 100MB, 2GiB'),
  ])
  .describe('bytes, or a string with a unit: 512KB, 100MB, 2GiB');

export const port = z.number().int().min(0).max(65535);

export const retrySchema = z.strictObject({
  initialDelay: duration.default('500ms').describe('first retry delay after an upstream failure'),
  maxDelay: duration.default('30s').describe('cap of the exponential backoff'),
  multiplier: z.number().min(1).default(2).describe('backoff growth factor per failed attempt'),
  jitter: z.number().min(0).max(1).default(0.2).describe('random spread of each delay, as a fraction'),
});

export const batchSchema = z.strictObject({
  maxRecords: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe('most records in one upstream batch'),
  maxBytes: bytes.default('1MB').describe('most payload bytes in one upstream batch'),
  linger: duration.default('50ms').describe('how long to wait for a batch to fill when the backlog is small'),
});

export const queueLimitsSchema = z.strictObject({
  maxBytes: bytes.default('1GiB').describe("disk budget of this sink's queue (payload + metadata bytes)"),
  maxAge: duration.default('7d').describe('messages older than this are expired (counted), 0 = never'),
  whenFull: z
    .enum(['drop-oldest', 'reject-new'])
    .default('drop-oldest')
    .describe(
      'drop-oldest: make room by dropping the oldest (counted); reject-new: refuse the PUBLISH (no PUBACK, the device retries)',
    ),
});

export const sinkCommon = {
  queue: queueLimitsSchema.prefault({}),
  batch: batchSchema.prefault({}),
  retry: retrySchema.prefault({}),
  sendTimeout: duration.default('30s').describe('an upstream send that takes longer fails and is retried'),
};

export type QueueLimits = z.output<typeof queueLimitsSchema>;
export type BatchConfig = z.output<typeof batchSchema>;
export type RetryConfig = z.output<typeof retrySchema>;
