/**
 * The timer of the steps that hold messages (aggregate, downsample keep:last):
 * every tick it collects what is due from each such step, runs it through the
 * rest of its route and commits it; then, if anything changed, it saves all
 * held state to the state file. One clock for all routes, so a save never
 * catches one route between taking its windows and committing them.
 *
 * What a crash can cost: messages absorbed since the last save (at most
 * `saveMs`, default 1 s) are lost with kill -9 or power loss; a window
 * committed but not yet saved as gone is sent again after the restart
 * (at-least-once, like the rest of the pipeline). A clean stop loses nothing:
 * it commits what is due and saves the open windows.
 */
import type { Logger } from '../observe/log.js';
import type { StateFile } from './state-file.js';
import type { Held, StepMessage } from './step.js';

interface Entry {
  key: string;
  held: Held;
  resume: (messages: StepMessage[]) => Promise<void>;
}

export class RouteClock {
  private readonly entries: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private dirty = false;
  private lastSave = 0;
  private stopped: Promise<void> | null = null;

  constructor(
    private readonly state: StateFile | null,
    private readonly saved: Record<string, unknown>,
    private readonly now: () => number,
    private readonly log: Logger | null,
    private readonly tickMs = 500,
    private readonly saveMs = 1000,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** registers a holding step and loads its saved state (a state that does not fit is dropped, logged) */
  add(key: string, held: Held, resume: Entry['resume']): void {
    this.entries.push({ key, held, resume });
    this.state?.register(key, () => held.save());
    if (this.saved[key] === undefined) return;
    try {
      held.load(this.saved[key]);
    } catch (err) {
      this.log?.warn({ key, err: (err as Error).message }, 'saved route state does not fit; starting empty');
    }
  }

  /** a held step took a message: the state needs saving */
  touch(): void {
    this.dirty = true;
  }

  start(): void {
    if (this.entries.length === 0 || this.timer) return;
    for (const k of Object.keys(this.saved)) {
      if (!this.entries.some((e) => e.key === k))
        this.log?.info({ key: k }, 'dropped saved state of a step no longer configured');
    }
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** runs one tick (or joins the running one) */
  tick(): Promise<void> {
    if (!this.ticking) {
      this.ticking = this.runTick().finally(() => {
        this.ticking = null;
      });
    }
    return this.ticking;
  }

  private async runTick(force = false): Promise<void> {
    const t = this.now();
    for (const e of this.entries) {
      const due = e.held.due(t);
      if (due.length === 0) continue;
      this.dirty = true;
      await e
        .resume(due)
        .catch((err) => this.log?.error({ key: e.key, err: (err as Error).message }, 'held output failed'));
    }
    if (this.state && this.dirty && (force || t - this.lastSave >= this.saveMs || t < this.lastSave)) {
      this.dirty = false;
      this.lastSave = t;
      await this.state.save();
    }
  }

  /** commits what is due and saves the rest; safe to call once per route */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await this.ticking;
      if (this.entries.length > 0) {
        this.dirty = true;
        await this.runTick(true);
      }
    })();
    return this.stopped;
  }
}
