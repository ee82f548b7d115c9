/** The registry of step kinds: `type:` -> schema and factory. */
import { z } from 'zod';
import type { Step } from '../step.js';
import { createDeadband, deadbandSchema } from './deadband.js';
import { createDownsample, downsampleSchema } from './downsample.js';
import { createDrop, dropSchema } from './drop.js';
import { createEncode, encodeSchema } from './encode.js';
import { createEnrich, enrichSchema } from './enrich.js';
import { createFilter, filterSchema } from './filter.js';
import { createRename, renameSchema } from './rename.js';
import { createSet, setSchema } from './set.js';

export const stepSchema = z.discriminatedUnion('type', [
  filterSchema,
  setSchema,
  renameSchema,
  dropSchema,
  enrichSchema,
  encodeSchema,
  deadbandSchema,
  downsampleSchema,
]);
export type StepConfig = z.output<typeof stepSchema>;

export function createStep(c: StepConfig): Step {
  switch (c.type) {
    case 'filter':
      return createFilter(c);
    case 'set':
      return createSet(c);
    case 'rename':
      return createRename(c);
    case 'drop':
      return createDrop(c);
    case 'enrich':
      return createEnrich(c);
    case 'encode':
      return createEncode(c);
    case 'deadband':
      return createDeadband(c);
    case 'downsample':
      return createDownsample(c);
  }
}
