/**
 * Writes bytes no faster than a UART at `baudRate` would send them (10 bit
 * times per byte for 8N1). PTYs ignore the baud rate and move bytes as fast as
 * the kernel copies them; pacing makes a simulated device behave like the wire.
 */
export class PacedWriter {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private credit = 0;
  private readonly bytesPerMs: number;
  private drainWaiters: Array<() => void> = [];

  constructor(
    baudRate: number,
    private readonly sink: (chunk: Buffer) => void,
    bitsPerByte = 10,
  ) {
    this.bytesPerMs = baudRate / bitsPerByte / 1000;
  }

  get pending(): number {
    return this.queued;
  }

  write(buf: Buffer): void {
    this.queue.push(buf);
    this.queued += buf.length;
    if (!this.timer) {
      this.last = performance.now();
      this.credit = 0;
      this.tick();
    }
  }

  /** Resolves when everything written so far has been handed to the sink. */
  drained(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private tick = (): void => {
    const now = performance.now();
    this.credit += (now - this.last) * this.bytesPerMs;
    this.last = now;
    let n = Math.floor(this.credit);
    const parts: Buffer[] = [];
    while (n > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.length <= n) {
        parts.push(head);
        this.queue.shift();
        n -= head.length;
      } else {
        parts.push(head.subarray(0, n));
        this.queue[0] = head.subarray(n);
        n = 0;
      }
    }
    if (parts.length > 0) {
      const chunk = Buffer.concat(parts);
      this.credit -= chunk.length;
      this.queued -= chunk.length;
      this.sink(chunk);
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(this.tick, 1);
      return;
    }
    this.timer = null;
    for (const w of this.drainWaiters.splice(0)) w();
  };

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.queued = 0;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
