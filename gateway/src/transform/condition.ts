/**
 * Conditions for `where` and the filter step: JSONata expressions, true when
 * they evaluate to `true`. The common shape `field op literal [and ...]`
 * (op one of = != > >= < <=, a literal number, "string", true, false or null)
 * takes a synchronous fast path that gives the same answer as JSONata (a
 * property test checks this); anything else, and any payload the fast path
 * is not sure about (arrays on the way, objects at the leaf), goes to JSONata.
 */
import { z } from 'zod';
import { compileExpression, type Expression, type ExpressionInput } from './expression.js';

export type Fields = ExpressionInput;
/** true: the message passes; throws (sync or async) when the payload makes the expression fail. */
export type Condition = ((f: Fields) => boolean | Promise<boolean>) & { readonly fast: boolean };

type Op = '=' | '!=' | '>' | '>=' | '<' | '<=';
interface Clause {
  path: string[];
  op: Op;
  value: string | number | boolean | null;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const PATH = `(?:\\$(?:topic|deviceId|gatewayId|receivedAt)|\\$params\\.${NAME}|${NAME}(?:\\.${NAME})*)`;
const STRING = '"(?:[^"\\\\]|\\\\.)*"';
const LITERAL = `${STRING}|-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][-+]?\\d+)?|true|false|null`;
const CLAUSE = `\\s*(${PATH})\\s*(=|!=|>=|<=|>|<)\\s*(${LITERAL})\\s*`;
const CLAUSE_RE = new RegExp(`^${CLAUSE}$`);
const KEYWORDS = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);

/** Reads a dotted path; arrays (which JSONata maps over) yield NOT_SURE. */
const NOT_SURE = Symbol('not sure');
export function pathGet(value: unknown, path: string[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function lookup(f: Fields, path: string[]): unknown {
  const head = path[0]!;
  if (head === '$topic') return f.topic;
  if (head === '$deviceId') return f.deviceId;
  if (head === '$gatewayId') return f.gatewayId;
  if (head === '$receivedAt') return f.receivedAt;
  let v = f.value;
  let keys = path;
  if (head === '$params') {
    v = f.params;
    keys = path.slice(1);
  }
  for (const k of keys) {
    if (Array.isArray(v)) return NOT_SURE;
    if (v === null || typeof v !== 'object') return undefined;
    // own fields only: a payload key such as "constructor" must not reach the prototype
    v = Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v !== null && typeof v === 'object' ? NOT_SURE : v;
}

/** JSONata's answer for primitives: missing fields compare false, mixed types are errors. */
function test(a: unknown, op: Op, b: Clause['value']): boolean {
  if (a === undefined) return false;
  if (op === '=') return a === b;
  if (op === '!=') return a !== b;
  const ta = typeof a;
  if ((ta !== 'number' && ta !== 'string') || (typeof b !== 'number' && typeof b !== 'string')) {
    throw new Error(
      `the values either side of "${op}" must be numbers or strings (got ${JSON.stringify(a)})`,
    );
  }
  if (ta !== typeof b) {
    throw new Error(
      `the values ${JSON.stringify(a)} and ${JSON.stringify(b)} either side of "${op}" must be of the same type`,
    );
  }
  const x = a as number | string;
  if (op === '>') return x > b;
  if (op === '>=') return x >= b;
  if (op === '<') return x < b;
  return x <= b;
}

/** The clauses of a fast-path condition, or null when the text needs JSONata. */
export function fastClauses(text: string): Clause[] | null {
  // split on " and " outside string literals
  const parts: string[] = [];
  const re = new RegExp(`(${STRING})|\\band\\b`, 'g');
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) continue;
    parts.push(text.slice(start, m.index));
    start = m.index + 3;
  }
  parts.push(text.slice(start));
  const clauses: Clause[] = [];
  for (const p of parts) {
    const m = CLAUSE_RE.exec(p);
    if (!m) return null;
    const path = m[1]!.split('.');
    if (path.some((k) => KEYWORDS.has(k))) return null;
    // what JSONata's tokenizer refuses (a bad escape, 1e400) must reach it, to be refused with its message
    let value: Clause['value'];
    try {
      value = JSON.parse(m[3]!) as Clause['value'];
    } catch {
      return null;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    const op = m[2] as Op;
    // ordering against true/false/null is JSONata's business (its errors differ)
    if (op !== '=' && op !== '!=' && typeof value !== 'number' && typeof value !== 'string') return null;
    clauses.push({ path, op, value });
  }
  return clauses;
}

/** `==` is the likeliest mistake from other languages: say what JSONata wants instead. */
function compileWithHint(text: string): Expression {
  try {
    return compileExpression(text);
  } catch (err) {
    if (!/==/.test(text)) throw err;
    throw new Error(`${(err as Error).message} (conditions are JSONata: compare with =, not ==)`);
  }
}

/** Throws an Error with a readable message when the text is not an expression. */
export function compileCondition(text: string): Condition {
  const clauses = fastClauses(text);
  // a fast-path shape is valid JSONata by construction: compile it only if a payload needs it,
  // so routes with only field comparisons never load the engine
  let expr = clauses ? null : compileWithHint(text);
  const slow = async (f: Fields) => {
    expr ??= compileWithHint(text);
    return (await expr.evaluate(f)) === true;
  };
  if (!clauses) return Object.assign(slow, { fast: false });
  const cond = (f: Fields): boolean | Promise<boolean> => {
    for (const c of clauses) {
      const a = lookup(f, c.path);
      if (a === NOT_SURE) return slow(f);
      if (!test(a, c.op, c.value)) return false;
    }
    return true;
  };
  return Object.assign(cond, { fast: true });
}

/** A condition in the config: compiled at load, so a typo is a config error with its path. */
export const conditionSchema = z.string().superRefine((text, ctx) => {
  try {
    compileCondition(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
