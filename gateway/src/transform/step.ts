/** What a step is: a function over one message that keeps it (possibly changed), filters it, or fails it. */
export interface StepMessage {
  /** the decoded payload; steps change it in place or replace it */
  value: unknown;
  topic: string;
  deviceId: string;
  params: Record<string, string>;
  receivedAt: number;
  gatewayId: string;
  /** output encoding; the encode step sets it */
  encode: 'json' | 'cbor' | 'raw';
}

export type StepOutcome = { keep: true } | { keep: false; filtered: true } | { keep: false; error: string };
export type Step = (m: StepMessage) => StepOutcome;
export const KEEP: StepOutcome = { keep: true };

/** Writes `v` at a dotted path, creating objects on the way; false when the payload is not an object. */
export function pathSet(root: unknown, path: string[], v: unknown): boolean {
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return false;
  let o = root as Record<string, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = v;
  return true;
}

export function pathDelete(root: unknown, path: string[]): unknown {
  let o: unknown = root;
  for (const k of path.slice(0, -1)) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Record<string, unknown>)[k];
  }
  if (o === null || typeof o !== 'object') return undefined;
  const last = path[path.length - 1]!;
  const v = (o as Record<string, unknown>)[last];
  delete (o as Record<string, unknown>)[last];
  return v;
}
