import { createRequire } from 'node:module';

export interface PromFamily {
  name: string;
  help?: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}

/** parse-prometheus-text-format ships no types; this is the part the tests use. */
export const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => PromFamily[];
