/**
 * Reference broker for `tidegate-sim bench`: plain aedes with its in-memory
 * persistence and nothing else, in its own process (so its RSS and CPU are
 * its own), on a free port. Prints {"port":N} when listening.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
const server = createServer({ noDelay: true }, aedes.handle);
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))));
