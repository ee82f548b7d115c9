/**
 * JSONata expressions (map step, and conditions the fast path cannot take),
 * compiled once at start. Each evaluation is bounded in time and stack depth
 * so a config mistake such as unbounded recursion fails that message (a dead
 * letter) instead of stalling the broker's event loop.
 */
import { createRequire } from 'node:module';
import type jsonataModule from 'jsonata';

let engine: typeof jsonataModule | null = null;
/**
 * JSONata is loaded on the first expression, so a gateway whose routes have none
 * (or only fast-path conditions) never loads it. A synchronous require rather than
 * `await import()`: expressions are compiled while the config is checked and routes
 * compiled, both synchronous, and a syntax error must be a config error there.
 */
function jsonata(): typeof jsonataModule {
  engine ??= createRequire(import.meta.url)('jsonata') as typeof jsonataModule;
  return engine;
}

/** What an expression sees besides the payload: `$topic`, `$deviceId`, `$params.x`, `$receivedAt`, `$gatewayId`. */
export interface ExpressionInput {
  value: unknown;
  topic: string;
  deviceId: string;
  params: Record<string, string>;
  receivedAt?: number;
  gatewayId?: string;
}

export interface Expression {
  readonly text: string;
  evaluate(input: ExpressionInput): Promise<unknown>;
}

/** Per evaluation: at most this long and this deep (JSONata checks both on every step). */
export const EVAL_TIMEOUT_MS = 100;
export const EVAL_MAX_DEPTH = 200;

interface JsonataError {
  message: string;
  position?: number;
  code?: string;
}

/** The message of a JSONata error, with where in the expression it is. */
export function jsonataMessage(err: unknown): string {
  const e = err as JsonataError;
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  return e?.position === undefined ? msg : `${msg} (at character ${e.position})`;
}

/** Throws an Error with a readable message when the text is not a JSONata expression. */
export function compileExpression(text: string): Expression {
  let expr: jsonataModule.Expression;
  try {
    expr = jsonata()(text, { timeout: EVAL_TIMEOUT_MS, stack: EVAL_MAX_DEPTH });
  } catch (err) {
    throw new Error(`invalid expression "${text}": ${jsonataMessage(err)}`);
  }
  return {
    text,
    async evaluate(i) {
      try {
        return await expr.evaluate(i.value, {
          topic: i.topic,
          deviceId: i.deviceId,
          params: i.params,
          receivedAt: i.receivedAt,
          gatewayId: i.gatewayId,
        });
      } catch (err) {
        throw new Error(jsonataMessage(err));
      }
    },
  };
}
