/**
 * The serial bridge's ports on the status page. The bridge serves its own
 * status (GET http://127.0.0.1:9180/status, a BridgeStatus document); when
 * `status.bridgeStatusUrl` is set, /api/bridge relays it with whether it was
 * reachable and, if not, why in words. One fetch serves every open page: a
 * result is reused for `maxAgeMs` and concurrent callers share the fetch in
 * flight, so ten pages polling cost the bridge one request per interval.
 */
import { z } from 'zod';
import type { BridgeStatus } from '../../../firmware-bridge/src/index.js';
import { type StatusServer, sendJson } from './server.js';

export interface BridgeView {
  /** false when status.bridgeStatusUrl is not set: the page hides the section */
  configured: boolean;
  url: string | null;
  reachable: boolean;
  /** why the bridge's status could not be read, in words */
  error: string | null;
  fetchedAt: number | null;
  status: BridgeDoc | null;
}

/**
 * The fields the page reads. Checked because the URL is operator input and
 * anything may answer there; only these are passed on.
 */
const bridgeShape = z.object({
  bridgeId: z.string(),
  uptimeSeconds: z.number(),
  gateway: z.object({ url: z.string(), devicesConnected: z.number() }),
  buffer: z.object({ messages: z.number(), bytes: z.number() }),
  ports: z.array(
    z.object({
      path: z.string(),
      state: z.string(),
      baudRate: z.number(),
      lastError: z.string().nullable(),
      bytesIn: z.number(),
      openFailures: z.number(),
      device: z.object({ id: z.string(), firmware: z.string(), connected: z.boolean() }).nullable(),
    }),
  ),
});

/** what the page receives: the fields checked here (zod drops the rest: the page reads no more) */
export type BridgeDoc = z.output<typeof bridgeShape>;

/** Fails to compile when the bridge's BridgeStatus drifts from the fields checked here. */
export function asBridgeDoc(status: BridgeStatus): BridgeDoc {
  return status;
}

/** tidegate_errors_total (stage, code), or anything that counts the same way */
interface ErrorCounter {
  inc(labels: { stage: string; code: string }): void;
}

function inWords(err: Error & { code?: string; cause?: unknown }, url: string, ms: number): string {
  // fetch wraps the socket error: ECONNREFUSED and the like are on its cause
  const cause = err.cause as { code?: string } | undefined;
  const code = cause?.code ?? err.code;
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return `the bridge did not answer within ${ms} ms`;
  if (code === 'ECONNREFUSED') return `the bridge is not running: nothing listens at ${url}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the bridge's host in ${url}`;
  return `cannot read the bridge's status at ${url}: ${err.message}${code ? ` (${code})` : ''}`;
}

export class BridgeStatusReader {
  private last: BridgeView;
  private inFlight: Promise<BridgeView> | null = null;

  constructor(
    private readonly url: string | undefined,
    private readonly errors: ErrorCounter,
    private readonly opts: { timeoutMs?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {
    this.last = {
      configured: url !== undefined,
      url: url ?? null,
      reachable: false,
      error: url === undefined ? null : 'not read yet',
      fetchedAt: null,
      status: null,
    };
  }

  register(server: StatusServer): void {
    server.routes.set('/api/bridge', async (req, res) => {
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' });
      sendJson(res, 200, await this.read());
    });
  }

  read(): Promise<BridgeView> {
    if (this.url === undefined) return Promise.resolve(this.last);
    const now = (this.opts.now ?? Date.now)();
    const fresh = this.last.fetchedAt !== null && now - this.last.fetchedAt < (this.opts.maxAgeMs ?? 2000);
    if (fresh) return Promise.resolve(this.last);
    if (!this.inFlight) {
      this.inFlight = this.fetch(this.url).finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async fetch(url: string): Promise<BridgeView> {
    const ms = this.opts.timeoutMs ?? 1000;
    const at = (this.opts.now ?? Date.now)();
    let view: BridgeView;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(ms),
        headers: { accept: 'application/json' },
      });
      const text = await res.text();
      if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { kind: 'BRIDGE_STATUS_INVALID' });
      const parsed = bridgeShape.safeParse(JSON.parse(text));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw Object.assign(
          new Error(`${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'}`),
          {
            kind: 'BRIDGE_STATUS_INVALID',
          },
        );
      }
      view = {
        ...this.last,
        reachable: true,
        error: null,
        fetchedAt: at,
        status: parsed.data,
      };
    } catch (e) {
      const err = e as Error & { kind?: string; code?: string };
      const invalid = err.kind === 'BRIDGE_STATUS_INVALID' || err instanceof SyntaxError;
      this.errors.inc({ stage: 'status', code: invalid ? 'BRIDGE_STATUS_INVALID' : 'BRIDGE_UNREACHABLE' });
      const error = invalid
        ? `${url} answered, but not with the bridge's status (${err.message})`
        : inWords(err, url, ms);
      // the last good ports stay visible, marked unreachable, so a blip does not blank the section
      view = { ...this.last, reachable: false, error, fetchedAt: at };
    }
    this.last = view;
    return view;
  }
}
