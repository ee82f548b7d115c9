/** Checking a saved message (held by a step across a restart) before trusting it. */
import { z } from 'zod';
import type { StepMessage } from './step.js';

export const savedMessage = z.object({
  value: z.unknown(),
  topic: z.string(),
  deviceId: z.string(),
  params: z.record(z.string(), z.string()),
  receivedAt: z.number(),
  gatewayId: z.string(),
  encode: z.enum(['json', 'cbor', 'raw']),
});

export function toSaved(m: StepMessage): StepMessage {
  return { ...m, params: { ...m.params } };
}
