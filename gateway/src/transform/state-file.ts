/**
 * Route state (open aggregate windows, held messages) across restarts: one
 * CBOR file under dataDir, replaced atomically (write a temp file, fsync,
 * rename, fsync the directory), so a crash leaves the old or the new state,
 * never a torn one. CBOR rather than JSON because held payloads may hold
 * what JSON cannot (byte strings, dates from CBOR devices).
 *
 * Why not a table in the queue's SQLite file: the queue has one writer, a
 * worker thread; a second connection writing from the main thread would wait
 * (busy_timeout) on the worker's group commits, and the broker's event loop
 * with it. This file is written with async I/O, at most once per second.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decode, encode } from 'cbor-x';

export const STATE_FILE = 'route-state.cbor';

export type SavedState = Record<string, unknown>;

/** Reads the state; a missing file is an empty state, an unreadable one an error (the caller logs and starts empty). */
export function readState(file: string): SavedState {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const v: unknown = decode(bytes);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a state map');
  return v as SavedState;
}

export async function writeState(file: string, state: SavedState): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(encode(state));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * One writer for all routes: writes are serialised (never two renames racing),
 * and a save requested while one runs is done once after it.
 */
export class StateFile {
  private running: Promise<void> | null = null;
  private again = false;
  private readonly parts = new Map<string, () => unknown>();

  constructor(
    readonly file: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** registers a state source under a key; its value is read at each save */
  register(key: string, save: () => unknown): void {
    this.parts.set(key, save);
  }

  save(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const state: SavedState = {};
        for (const [k, f] of this.parts) state[k] = f();
        await writeState(this.file, state).catch(this.onError);
      } while (this.again);
      this.running = null;
    })();
    return this.running;
  }
}
