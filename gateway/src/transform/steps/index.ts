/** The registry of step kinds: `type:` -> config schema and factory. */
import { z } from 'zod';
import { type StepContext, type StepInstance, systemContext } from '../step.js';
import { aggregateSchema, createAggregate } from './aggregate.js';
import { createDeadband, deadbandSchema } from './deadband.js';
import { createDownsample, downsampleSchema } from './downsample.js';
import { createDrop, dropSchema } from './drop.js';
import { createEncode, encodeSchema } from './encode.js';
import { createEnrich, enrichSchema } from './enrich.js';
import { createFilter, filterSchema } from './filter.js';
import { createMap, mapSchema } from './map.js';
import { createRename, renameSchema } from './rename.js';
import { createSet, setSchema } from './set.js';

export const stepSchema = z.discriminatedUnion('type', [
  filterSchema,
  mapSchema,
  setSchema,
  renameSchema,
  dropSchema,
  enrichSchema,
  deadbandSchema,
  downsampleSchema,
  aggregateSchema,
  encodeSchema,
]);
export type StepConfig = z.output<typeof stepSchema>;
export type StepType = StepConfig['type'];

export function createStep(c: StepConfig, ctx: StepContext = systemContext): StepInstance {
  switch (c.type) {
    case 'filter':
      return { run: createFilter(c) };
    case 'map':
      return { run: createMap(c) };
    case 'set':
      return { run: createSet(c) };
    case 'rename':
      return { run: createRename(c) };
    case 'drop':
      return { run: createDrop(c) };
    case 'enrich':
      return { run: createEnrich(c) };
    case 'deadband':
      return { run: createDeadband(c, ctx) };
    case 'downsample':
      return createDownsample(c, ctx);
    case 'aggregate':
      return createAggregate(c, ctx);
    case 'encode':
      return { run: createEncode(c) };
  }
}
