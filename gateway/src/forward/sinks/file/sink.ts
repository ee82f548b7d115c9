/**
 * The file sink: rotating NDJSON files in a folder, one record envelope a line.
 * A batch is acknowledged after it is written and (by default) fsynced, so the
 * file is as durable as the queue it drains.
 */
import { type FileHandle, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bytes } from '../../../config/units.js';
import { toEnvelope } from '../../../contracts/record.js';
import { SinkError } from '../../../errors.js';
import type { Sink, SinkFactory } from '../../sink.js';
import type { FileSinkConfig } from './config.js';

const FILE_RE = /^(.+)-(\d{13})-(\d{6})\.ndjson$/;

export class FileSink implements Sink {
  readonly type = 'file';
  private fh: FileHandle | null = null;
  private size = 0;
  private counter = 0;
  private readonly rotateBytes: number;
  readonly dir: string;

  constructor(
    private readonly name: string,
    private readonly config: FileSinkConfig,
    dataDir: string,
  ) {
    this.rotateBytes = bytes(config.rotateBytes);
    this.dir = resolve(dataDir, config.path);
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  private async current(): Promise<FileHandle> {
    if (this.fh && this.size < this.rotateBytes) return this.fh;
    if (this.fh) await this.fh.close();
    this.counter++;
    const file = join(
      this.dir,
      `${this.name}-${Date.now()}-${String(this.counter % 1_000_000).padStart(6, '0')}.ndjson`,
    );
    this.fh = await open(file, 'a');
    this.size = (await this.fh.stat()).size;
    await this.prune();
    return this.fh;
  }

  /** Keeps at most maxFiles files of this sink (oldest go first). */
  private async prune(): Promise<void> {
    const mine = (await readdir(this.dir))
      .filter((f) => FILE_RE.exec(f)?.[1] === this.name)
      .sort((a, b) => a.localeCompare(b));
    for (const f of mine.slice(0, Math.max(0, mine.length - this.config.maxFiles))) {
      await rm(join(this.dir, f), { force: true });
    }
  }

  async send(records: Parameters<Sink['send']>[0], ctx: Parameters<Sink['send']>[1]) {
    try {
      const fh = await this.current();
      const text = `${records.map((r) => JSON.stringify(toEnvelope(ctx.gatewayId, r))).join('\n')}\n`;
      const buf = Buffer.from(text);
      await fh.write(buf);
      this.size += buf.length;
      if (this.config.fsync) await fh.sync();
      return undefined;
    } catch (err) {
      // a full or read-only disk can recover; keep the batch and retry
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (this.fh) await this.fh.close().catch(() => undefined);
      this.fh = null;
      throw new SinkError(`cannot write to ${this.dir}: ${code}`, code, true, { cause: err });
    }
  }

  async stop(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }

  describe(): Record<string, unknown> {
    return { path: this.dir };
  }
}

export const createFileSink: SinkFactory<FileSinkConfig> = (name, config, deps) =>
  new FileSink(name, config, deps.dataDir);

/** Reads every record of a file sink folder, oldest file first (used by tests and device-sim verify). */
export async function listSinkFiles(path: string): Promise<string[]> {
  const files = (await readdir(path)).filter((f) => FILE_RE.test(f)).sort((a, b) => a.localeCompare(b));
  const out: string[] = [];
  for (const f of files) if ((await stat(join(path, f))).isFile()) out.push(join(path, f));
  return out;
}
