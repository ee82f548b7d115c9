/**
 * Conditions for `where` and the filter step: `field op value [and ...]`, with
 * op one of == != > >= < <=, a field a dotted path into the decoded payload
 * (or `$topic`, `$deviceId`, a topic wildcard `$params.name`), and a value a
 * number, a "string", true, false or null. Small on purpose: fast (no
 * expression engine on the ingest path) and checked at start.
 */
export interface Fields {
  value: unknown;
  topic: string;
  deviceId: string;
  params: Record<string, string>;
}

type Op = '==' | '!=' | '>' | '>=' | '<' | '<=';
interface Clause {
  path: string[];
  op: Op;
  value: unknown;
}
export type Condition = (f: Fields) => boolean;

const CLAUSE =
  /^\s*([$A-Za-z_][\w.$]*)\s*(==|!=|>=|<=|>|<)\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:e-?\d+)?|true|false|null)\s*$/;

export function pathGet(value: unknown, path: string[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function lookup(f: Fields, path: string[]): unknown {
  if (path[0] === '$topic') return f.topic;
  if (path[0] === '$deviceId') return f.deviceId;
  if (path[0] === '$params') return path[1] === undefined ? undefined : f.params[path[1]];
  return pathGet(f.value, path);
}

function test(a: unknown, op: Op, b: unknown): boolean {
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  // ordering only between two numbers (NaN never passes) or two strings; anything else is false
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')))
    return false;
  if (op === '>') return a > b;
  if (op === '>=') return a >= b;
  if (op === '<') return a < b;
  return a <= b;
}

/** Throws an Error with a readable message when the text is not a condition. */
export function compileCondition(text: string): Condition {
  const clauses: Clause[] = text.split(/\s+and\s+/).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m)
      throw new Error(
        `cannot read condition "${part.trim()}" (expected: field op value, op one of == != > >= < <=)`,
      );
    return { path: m[1]!.split('.'), op: m[2] as Op, value: JSON.parse(m[3]!) as unknown };
  });
  return (f) => clauses.every((c) => test(lookup(f, c.path), c.op, c.value));
}

import { z } from 'zod';

/** A condition in the config: checked at load, so a typo is a config error with its path. */
export const conditionSchema = z.string().superRefine((text, ctx) => {
  try {
    compileCondition(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
