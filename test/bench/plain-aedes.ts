/**
 * Reference broker for benchmarks: plain aedes 1.2 with its in-memory
 * persistence and nothing else, on the port given as argv[2] (0 = any).
 * Prints {"port":N} when listening.
 */
import { createServer } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
const server = createServer({ noDelay: true }, aedes.handle);
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
process.on('message', (m: string) => {
  if (m === 'reset') loop.reset();
  if (m === 'lag') process.send?.({ lagP99Ms: loop.percentile(99) / 1e6, lagMaxMs: loop.max / 1e6 });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
