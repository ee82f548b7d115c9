/**
 * aedes-persistence@11's shared suite (`aedes-persistence/abstract`) run against
 * our SQLite persistence. The suite is written for node:test (t.plan, t.assert,
 * t.diagnostic), so it runs under `node --test`; broker-persistence.test.ts
 * starts it from vitest and fails when any of its tests fails.
 * Every instance gets a new database file in a temp folder: real files, real WAL.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqlitePersistence } from '../../gateway/src/broker/persistence.js';

const require = createRequire(import.meta.url);
const abstract = require('aedes-persistence/abstract.js') as (opts: object) => void;

const dir = mkdtempSync(join(tmpdir(), 'tidegate-persistence-'));
let n = 0;

abstract({
  test,
  // testAsync: the suite calls setup(broker) itself, as aedes 1.x does
  testAsync: true,
  persistence: () => new SqlitePersistence({ file: join(dir, `p${n++}.db`), maxQueuedPerClient: 100_000 }),
});
