/** Config of the status page and its APIs. */
import { z } from 'zod';
import { port } from '../config/primitives.js';

export const statusSchema = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default('0.0.0.0').describe('address of the status page and APIs'),
  port: port.default(8080).describe('HTTP port of the status page (0 = pick a free one)'),
  auth: z
    .enum(['token', 'none'])
    .default('token')
    .describe(
      'token: the page and APIs need the token (only /healthz and /readyz are open); none: open to anyone who can reach the port',
    ),
  token: z
    .string()
    .min(16, 'use at least 16 characters')
    .optional()
    .describe(
      'the access token, e.g. ${TIDEGATE_STATUS_TOKEN}; when unset, one is generated and stored in <dataDir>/status-token',
    ),
  bridgeStatusUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http:// URL such as http://127.0.0.1:9180/status' })
    .optional()
    .describe(
      "the serial bridge's status URL (tidegate-bridge serves http://127.0.0.1:9180/status); when set, the page shows its ports",
    ),
});
export type StatusConfig = z.output<typeof statusSchema>;
