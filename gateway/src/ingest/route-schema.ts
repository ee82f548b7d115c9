/** Config of a route: where messages come from, what happens to them, which sink they go to. */
import { z } from 'zod';

export const routeSchema = z.strictObject({
  from: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('MQTT topic filter(s); named wildcards such as devices/+deviceId/# bind fields'),
  to: z.string().min(1).describe('name of the sink whose queue receives the output'),
});

export type RouteConfig = z.output<typeof routeSchema>;
