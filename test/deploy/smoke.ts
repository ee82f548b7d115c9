/**
 * Smoke test of a packaged /opt/tidegate (extracted from the .deb), run by
 * gateway/deploy/smoke-test.sh. For arm64 every target binary runs under
 * `qemu-aarch64-static -L /usr/aarch64-linux-gnu` (no binfmt needed); the
 * MQTT client, HTTP probes, PTY peer and SQLite reader are the host's (x64).
 * Prints one line per check and `N passed, N failed`; exits 1 on any failure.
 *
 * Usage: node dist/test/deploy/smoke.js <extracted-root> <arm64|amd64>
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { startNotifyReceiver } from './notify-receiver.js';
import { checkBridge } from './smoke-bridge.js';
import { checkSerialPort } from './smoke-serial.js';

const [root, arch] = process.argv.slice(2);
if (!root || (arch !== 'arm64' && arch !== 'amd64')) {
  process.stderr.write('usage: smoke.js <extracted-root> <arm64|amd64>\n');
  process.exit(2);
}
const opt = join(root, 'opt/tidegate');
const node = join(opt, 'bin/node');
const cli = join(opt, 'app/dist/gateway/src/cli.js');
/** the command prefix that runs a target binary on this host */
const runner: string[] =
  arch === 'arm64' ? ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu', node] : [node];
const work = mkdtempSync(join(tmpdir(), 'tidegate-smoke-'));
const results: Array<{ name: string; ok: boolean; detail: string; ms: number }> = [];

async function check(name: string, fn: () => Promise<string>): Promise<boolean> {
  const t0 = Date.now();
  let ok = true;
  let detail: string;
  try {
    detail = await fn();
  } catch (e) {
    ok = false;
    detail = e instanceof Error ? e.message : String(e);
  }
  const ms = Date.now() - t0;
  results.push({ name, ok, detail, ms });
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name} (${(ms / 1000).toFixed(1)} s): ${detail}\n`);
  return ok;
}

function runTarget(args: string[], timeoutMs = 60_000): Promise<string> {
  const [cmd, ...rest] = runner;
  return new Promise((resolve, reject) =>
    execFile(cmd!, [...rest, ...args], { timeout: timeoutMs, cwd: work }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message.split('\n')[0]} ${stderr.trim()}`)) : resolve(stdout.trim()),
    ),
  );
}

async function waitFor<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Envelope {
  id?: string;
  deviceId?: string;
  topic?: string;
}

/** The file sink's NDJSON record that contains `marker`, waiting up to 30 s for it. */
function findRecord(dataDir: string, marker: string): Promise<Envelope> {
  const out = join(dataDir, 'out');
  return waitFor(
    () => {
      let files: string[] = [];
      try {
        files = readdirSync(out).filter((f) => f.endsWith('.ndjson'));
      } catch {
        return undefined;
      }
      for (const f of files) {
        const hit = readFileSync(join(out, f), 'utf8')
          .split('\n')
          .find((l) => l.includes(marker));
        if (hit) return JSON.parse(hit) as Envelope;
      }
      return undefined;
    },
    30_000,
    `the record with ${marker} in the file sink`,
  );
}

async function main(): Promise<void> {
  await check(`the packaged node runs as ${arch}`, async () => {
    const out = await runTarget([
      '-p',
      '[process.arch, process.versions.node, process.versions.modules].join(" ")',
    ]);
    const want = arch === 'arm64' ? 'arm64' : 'x64';
    if (!out.startsWith(`${want} `)) throw new Error(`process.arch, node, ABI = ${out}`);
    return `process.arch, node, ABI = ${out}`;
  });

  await check('native addons load: better-sqlite3, cbor-extract, serialport bindings', async () => {
    const script = join(work, 'addons.cjs');
    writeFileSync(
      script,
      `const r = require('module').createRequire(${JSON.stringify(join(opt, 'app/package.json'))});
const D = r('better-sqlite3'); const db = new D(':memory:');
const v = db.prepare('select sqlite_version() v').get().v;
const x = require('module').createRequire(r.resolve('cbor-x'))('cbor-extract'); // nested under cbor-x
if (typeof x.extractStrings !== 'function') throw new Error('cbor-extract has no native extractStrings');
const b = r('@serialport/bindings-cpp');
console.log('sqlite ' + v + ', cbor-extract ok, bindings ' + typeof b.autoDetect);`,
    );
    return runTarget([script]);
  });

  const dataDir = join(work, 'data');
  const configFile = join(work, 'tidegate.yaml');
  writeFileSync(
    configFile,
    stringify({
      gatewayId: 'smoke',
      dataDir,
      mqtt: { host: '127.0.0.1', port: 0 },
      status: { host: '127.0.0.1', port: 0, auth: 'token', token: 'smoke-test-token-0123456789' },
      sinks: { local: { type: 'file', batch: { linger: '10ms' } } },
      routes: { all: { from: '#', to: 'local' } },
    }),
  );
  const rx = await startNotifyReceiver(work);
  const [cmd, ...rest] = runner;
  const gw: ChildProcess = spawn(cmd!, [...rest, cli, 'start', '--config', configFile], {
    cwd: work,
    env: { ...process.env, NOTIFY_SOCKET: rx.socket, WATCHDOG_USEC: '2000000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let exitCode: number | null | undefined;
  gw.on('exit', (code) => {
    exitCode = code;
  });
  gw.stdout!.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  gw.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  let ports = { mqttPort: 0, statusPort: 0 };

  const started = await check('the gateway starts and tells systemd READY=1', async () => {
    const line = await waitFor(
      () => {
        if (exitCode !== undefined) throw new Error(`exited with ${exitCode}: ${logs.slice(-5).join(' | ')}`);
        return logs.find((l) => l.includes('"tidegate started"'));
      },
      120_000,
      'the "tidegate started" log line',
    );
    ports = JSON.parse(line) as typeof ports;
    const ready = await waitFor(() => rx.messages.find((m) => m.startsWith('READY=1')), 30_000, 'READY=1');
    const exe = readlinkSync(`/proc/${gw.pid}/exe`);
    return `MQTT ${ports.mqttPort}, status ${ports.statusPort}; process image ${exe}; "${ready}"`;
  });

  if (started) {
    const base = `http://127.0.0.1:${ports.statusPort}`;
    await check('serves /healthz', async () => {
      const r = await fetch(`${base}/healthz`);
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return `200 ${await r.text()}`;
    });

    const marker = `smoke-${process.pid}-${Date.now()}`;
    await check('accepts a QoS 1 MQTT publish from a host client (PUBACK)', async () => {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqttPort}`, { clientId: 'smoke-dev-1' });
      await c.publishAsync('devices/smoke-dev-1/telemetry', JSON.stringify({ marker, t: 21.5 }), { qos: 1 });
      await c.endAsync();
      return 'PUBACK received';
    });

    await check('forwards the message to the file sink', async () => {
      const rec = await findRecord(dataDir, marker);
      if (!rec.id?.startsWith('smoke/') || rec.deviceId !== 'smoke-dev-1')
        throw new Error(JSON.stringify(rec));
      return `record ${rec.id} from ${rec.deviceId}`;
    });

    const fwMarker = `${marker}-fw`;
    await check('tidegate-bridge opens a PTY; a firmware frame is acked after the gateway commits it', () =>
      checkBridge(runner, opt, work, ports.mqttPort, 'smoke-fw-1', fwMarker),
    );
    await check('the firmware frame reaches the file sink', async () => {
      const rec = await findRecord(dataDir, fwMarker);
      if (rec.deviceId !== 'smoke-fw-1' || rec.topic !== 'devices/smoke-fw-1/telemetry') {
        throw new Error(JSON.stringify(rec));
      }
      return `record ${rec.id} on ${rec.topic}`;
    });

    await check('counts it in /metrics (received and sent)', async () => {
      const text = await (
        await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer smoke-test-token-0123456789' } })
      ).text();
      const pick = (name: string) =>
        text
          .split('\n')
          .filter((l) => l.startsWith(name))
          .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
      const received = pick('tidegate_messages_received_total');
      const sent = pick('tidegate_messages_sent_total');
      if (received < 1 || sent < 1) throw new Error(`received ${received}, sent ${sent}`);
      return `received ${received}, sent ${sent}`;
    });

    await check('stops on SIGTERM with exit code 0 and STOPPING=1', async () => {
      gw.kill('SIGTERM');
      const code = await waitFor(() => exitCode, 30_000, 'exit');
      if (code !== 0) throw new Error(`exit code ${code}`);
      await waitFor(() => rx.messages.find((m) => m.startsWith('STOPPING=1')), 10_000, 'STOPPING=1');
      return 'exit 0, STOPPING=1';
    });

    await check('committed it to SQLite (read on the host after the stop)', async () => {
      const db = new Database(join(dataDir, 'tidegate.db'), { readonly: true });
      try {
        const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").get() as
          | { seq: number }
          | undefined;
        const left = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
        const mode = db.pragma('journal_mode', { simple: true });
        if (!seq || seq.seq < 1) throw new Error('no message was ever committed');
        return `last seq ${seq.seq}, ${left} left in the queue (drained), journal_mode ${mode}`;
      } finally {
        db.close();
      }
    });
  }
  if (exitCode === undefined) gw.kill('SIGKILL');
  rx.close();

  await check('serialport alone (the bridge transport) opens a PTY made by socat and exchanges bytes', () =>
    checkSerialPort(runner, opt, work),
  );

  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) process.stdout.write(`gateway log (last 20 lines):\n${logs.slice(-20).join('\n')}\n`);
  process.stdout.write(`smoke: ${results.length - failed} passed, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}

void main();
