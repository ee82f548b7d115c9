/**
 * What a step is: a function over one message that keeps it (possibly
 * changed), filters it, or fails it; synchronous unless it evaluates a JSONata
 * expression. Steps that hold messages over time (aggregate windows, the last
 * message of a downsample interval) also expose a `held` part: the route's
 * timer asks it for what is due, and its state is saved across restarts.
 */
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
export type Step = (m: StepMessage) => StepOutcome | Promise<StepOutcome>;
export const KEEP: StepOutcome = { keep: true };
export const FILTERED: StepOutcome = { keep: false, filtered: true };

/** What a step factory gets besides its config. */
export interface StepContext {
  /** the clock of time-based steps (faked in unit tests) */
  now: () => number;
}
export const systemContext: StepContext = { now: Date.now };

/** The part of a step that holds messages across time. */
export interface Held {
  /** messages whose time has come at `now` (closed windows, ended intervals); they leave the state */
  due(now: number): StepMessage[];
  /** the state to save (cbor-encodable), and to load back after a restart */
  save(): unknown;
  /** throws when the saved state does not fit (then the step starts empty) */
  load(state: unknown): void;
}

export interface StepInstance {
  run: Step;
  held?: Held;
}

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
