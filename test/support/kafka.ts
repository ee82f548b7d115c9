// Real single-node Apache Kafka broker (KRaft, combined broker+controller) for integration tests.
//
// The jars come from Maven Central through `bash test/kafka/fetch.sh` (into test/kafka/lib/, gitignored);
// the broker runs as `java -cp test/kafka/lib/* kafka.Kafka server.properties`, no shell, no Docker.
// See test/kafka/README.md for timings and notes on the @platformatic/kafka client.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';

export interface KafkaBroker {
  /** PLAINTEXT listener, `127.0.0.1:port`. */
  bootstrap: string;
  /** SASL_PLAINTEXT listener with mechanism PLAIN, `127.0.0.1:port`. */
  saslBootstrap: string;
  /** SASL_SSL listener (TLS with a self-signed certificate; PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512), `127.0.0.1:port`. */
  tlsBootstrap: string;
  /** PEM file of the certificate a client must trust for tlsBootstrap. */
  tlsCaFile: string;
  saslUser: string;
  saslPassword: string;
  /** Folder with server.properties, log4j2.properties, broker.log and the log dirs (data/). */
  dataDir: string;
  /** Final teardown: SIGTERM (SIGKILL after 30 s), then removes dataDir unless the caller supplied it. */
  stop(): Promise<void>;
  /** SIGKILL the broker (crash); the data dir is kept so restart() can bring it back. */
  kill(): Promise<void>;
  /** Graceful SIGTERM stop that keeps the data dir (an outage); restart() brings it back. */
  shutdown(): Promise<void>;
  /** Stops the broker if it runs (SIGTERM), then starts it again on the same ports and data dir. */
  restart(): Promise<void>;
}

export interface StartKafkaOptions {
  /** Folder for config and data. Created if missing, never deleted. Default: a fresh temp dir, deleted by stop(). */
  dataDir?: string;
}

export const KAFKA_SASL_USER = 'test';
export const KAFKA_SASL_PASSWORD = 'test-secret';

const CLUSTER_ID = '5L6g3nShT-eMCtK--X86sw';
const READY_LINE = 'Kafka Server started';
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 30_000;
const TAIL_LINES = 40;

/** Tuned for a fast start on 2 cores; KAFKA_HARNESS_JVM_OPTS (space-separated) replaces them, e.g. for benchmarks. */
export const KAFKA_JVM_FLAGS: readonly string[] = process.env.KAFKA_HARNESS_JVM_OPTS?.trim()
  ? process.env.KAFKA_HARNESS_JVM_OPTS.trim().split(/\s+/)
  : [
      '-Xms256m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:-UsePerfData',
      '-Djava.awt.headless=true',
    ];

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`kafka harness: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function kafkaLibDir(): string {
  const lib = join(findRepoRoot(), 'test', 'kafka', 'lib');
  const jars = existsSync(lib) ? readdirSync(lib).filter((f) => f.endsWith('.jar')) : [];
  if (!jars.some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`kafka harness: no Kafka jars in ${lib}; run \`bash test/kafka/fetch.sh\` first`);
  }
  return lib;
}

function javaBin(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

function listen(server: Server): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') reject(new Error('kafka harness: no port bound'));
      else resolvePort(addr.port);
    });
  });
}

/** Free TCP ports on 127.0.0.1, all distinct (the probe sockets stay open until all are picked). */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    const ports: number[] = [];
    for (const s of servers) ports.push(await listen(s));
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
  }
}

function serverProperties(dir: string, plain: number, sasl: number, controller: number, ssl: number): string {
  const jaas =
    'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
    `username="${KAFKA_SASL_USER}" password="${KAFKA_SASL_PASSWORD}" user_${KAFKA_SASL_USER}="${KAFKA_SASL_PASSWORD}";`;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl},SASL_SSL://127.0.0.1:${ssl},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl},SASL_SSL://127.0.0.1:${ssl}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms=PLAIN',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${jaas}`,
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${jaas}`,
    // SCRAM credentials are written into the metadata log by `format --add-scram` (see prepare())
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.ssl.keystore.type=PEM',
    `listener.name.sasl_ssl.ssl.keystore.location=${join(dir, 'tls', 'server-keystore.pem')}`,
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // After a SIGKILL the restarted controller refuses the new broker incarnation (DUPLICATE_BROKER_REGISTRATION)
    // until the old one's session expires: 9 s by default, retried every heartbeat interval (2 s).
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
    'log.cleaner.dedupe.buffer.size=2097152',
    'num.network.threads=2',
    'num.io.threads=2',
    '',
  ].join('\n');
}

const LOG4J2_PROPERTIES = [
  'status = warn',
  'appender.out.type = Console',
  'appender.out.name = STDOUT',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  `rootLogger.level = ${process.env.KAFKA_LOG_LEVEL ?? 'WARN'}`,
  'rootLogger.appenderRef.out.ref = STDOUT',
  'logger.ready.name = kafka.server.KafkaRaftServer',
  'logger.ready.level = INFO',
  '',
].join('\n');

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
}

class Broker {
  readonly #lib: string;
  readonly #dir: string;
  readonly #ownsDir: boolean;
  readonly #ports: { plain: number; sasl: number; controller: number; ssl: number };
  readonly #tail: string[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<Exited> | undefined;
  #disposed = false;

  constructor(
    lib: string,
    dir: string,
    ownsDir: boolean,
    ports: { plain: number; sasl: number; controller: number; ssl: number },
  ) {
    this.#lib = lib;
    this.#dir = dir;
    this.#ownsDir = ownsDir;
    this.#ports = ports;
  }

  get dir(): string {
    return this.#dir;
  }

  get ports(): { plain: number; sasl: number; controller: number; ssl: number } {
    return this.#ports;
  }

  #jvmArgs(): string[] {
    return [
      ...KAFKA_JVM_FLAGS,
      `-Dlog4j2.configurationFile=${join(this.#dir, 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${join(this.#dir, 'logs')}`,
      '-cp',
      `${this.#lib}/*`,
    ];
  }

  #remember(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }

  #tailText(): string {
    return this.#tail.length ? `\n--- last broker output ---\n${this.#tail.join('\n')}` : ' (no output)';
  }

  async prepare(): Promise<void> {
    const { plain, sasl, controller, ssl } = this.#ports;
    await mkdir(join(this.#dir, 'logs'), { recursive: true });
    await makeCertificate(join(this.#dir, 'tls'));
    const props = join(this.#dir, 'server.properties');
    await writeFile(props, serverProperties(this.#dir, plain, sasl, controller, ssl));
    await writeFile(join(this.#dir, 'log4j2.properties'), LOG4J2_PROPERTIES);
    if (existsSync(join(this.#dir, 'data', 'meta.properties'))) return;
    const args = [
      ...this.#jvmArgs(),
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${CLUSTER_ID}`,
      '--ignore-formatted',
      '--add-scram',
      `SCRAM-SHA-256=[name=${KAFKA_SASL_USER},password=${KAFKA_SASL_PASSWORD}]`,
      '--add-scram',
      `SCRAM-SHA-512=[name=${KAFKA_SASL_USER},password=${KAFKA_SASL_PASSWORD}]`,
      '-c',
      props,
    ];
    const out: string[] = [];
    const child = spawn(javaBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => out.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => out.push(b.toString()));
    const exit = await new Promise<Exited>((r, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => r({ code, signal }));
    });
    if (exit.code !== 0) {
      throw new Error(
        `kafka harness: storage format failed (code ${exit.code}, signal ${exit.signal}):\n${out.join('')}`,
      );
    }
  }

  async start(): Promise<void> {
    if (this.#disposed)
      throw new Error('kafka harness: broker was stop()ped; use shutdown()/kill() + restart()');
    if (this.#child) throw new Error('kafka harness: broker already running');
    this.#tail.length = 0;
    const logFile = join(this.#dir, 'broker.log');
    await appendFile(logFile, `\n=== start ${new Date().toISOString()} ===\n`);
    const child = spawn(
      javaBin(),
      [...this.#jvmArgs(), 'kafka.Kafka', join(this.#dir, 'server.properties')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#child = child;
    this.#exited = new Promise<Exited>((r) => {
      child.once('exit', (code, signal) => r({ code, signal }));
      // A failed spawn (e.g. no java) emits 'error' and may never emit 'exit'.
      child.once('error', () => {
        if (child.pid === undefined) r({ code: null, signal: null });
      });
    });
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    void this.#exited.then(() => {
      process.removeListener('exit', killOnExit);
      if (this.#child === child) {
        this.#child = undefined;
      }
    });

    let onReady: (() => void) | undefined;
    const ready = new Promise<void>((r) => {
      onReady = r;
    });
    let logChain = Promise.resolve();
    for (const stream of [child.stdout, child.stderr]) {
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on('line', (line) => {
        this.#remember(line);
        logChain = logChain.then(() => appendFile(logFile, `${line}\n`)).catch(() => undefined);
        if (line.includes(READY_LINE)) onReady?.();
      });
    }

    let timer: NodeJS.Timeout | undefined;
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (err) =>
        reject(new Error(`kafka harness: cannot spawn ${javaBin()}: ${err.message}`)),
      );
    });
    const exitedEarly = this.#exited.then((e): never => {
      throw new Error(
        `kafka harness: broker exited before it was ready (code ${e.code}, signal ${e.signal})${this.#tailText()}`,
      );
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`kafka harness: broker not ready after ${READY_TIMEOUT_MS} ms${this.#tailText()}`),
          ),
        READY_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([ready, spawnError, exitedEarly, timeout]);
    } catch (err) {
      await this.#terminate('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
      exitedEarly.catch(() => undefined);
      spawnError.catch(() => undefined);
    }
  }

  /** Sends `signal` (SIGTERM escalates to SIGKILL after 30 s) and waits for the process to exit. */
  async #terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    if (!child || !exited) return;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    if (signal === 'SIGTERM') {
      timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    }
    await exited;
    clearTimeout(timer);
    if (this.#child === child) this.#child = undefined;
  }

  shutdown(): Promise<void> {
    return this.#terminate('SIGTERM');
  }

  kill(): Promise<void> {
    return this.#terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.#terminate('SIGTERM');
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.#disposed) return;
    await this.#terminate('SIGTERM');
    this.#disposed = true;
    if (this.#ownsDir) await rm(this.#dir, { recursive: true, force: true });
  }
}

/**
 * A self-signed certificate for 127.0.0.1 (openssl), and the PEM keystore Kafka reads:
 * the unencrypted PKCS#8 key followed by the certificate (KIP-651).
 */
async function makeCertificate(dir: string): Promise<void> {
  if (existsSync(join(dir, 'server-keystore.pem'))) return;
  await mkdir(dir, { recursive: true });
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.pem');
  const child = spawn(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '7',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const err: string[] = [];
  child.stderr.on('data', (b: Buffer) => err.push(b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`kafka harness: openssl failed: ${err.join('')}`);
  await writeFile(
    join(dir, 'server-keystore.pem'),
    `${await readFile(key, 'utf8')}${await readFile(cert, 'utf8')}`,
  );
}

/** Starts a fresh single-node broker on free ports; resolves once it serves requests. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const lib = kafkaLibDir();
  const ownsDir = opts.dataDir === undefined;
  const dir = opts.dataDir ? resolve(opts.dataDir) : await mkdtemp(join(tmpdir(), 'tidegate-kafka-'));
  const [plain, sasl, controller, ssl] = await freePorts(4);
  if (plain === undefined || sasl === undefined || controller === undefined || ssl === undefined) {
    throw new Error('kafka harness: could not pick ports');
  }
  const broker = new Broker(lib, dir, ownsDir, { plain, sasl, controller, ssl });
  try {
    await broker.prepare();
    await broker.start();
  } catch (err) {
    await broker.stop().catch(() => undefined);
    throw err;
  }
  return {
    bootstrap: `127.0.0.1:${plain}`,
    saslBootstrap: `127.0.0.1:${sasl}`,
    tlsBootstrap: `127.0.0.1:${ssl}`,
    tlsCaFile: join(dir, 'tls', 'server.pem'),
    saslUser: KAFKA_SASL_USER,
    saslPassword: KAFKA_SASL_PASSWORD,
    dataDir: dir,
    stop: () => broker.stop(),
    kill: () => broker.kill(),
    shutdown: () => broker.shutdown(),
    restart: () => broker.restart(),
  };
}

/**
 * Creates `topic` with `partitions` partitions (replication factor 1) and waits until every partition has a
 * leader in the broker's metadata. Succeeds if the topic already exists with that many partitions.
 */
export async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'tidegate-test-admin', bootstrapBrokers: [bootstrap] });
  try {
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    } catch (err) {
      const existing = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
      const count = existing?.topics.get(topic)?.partitionsCount;
      if (count !== partitions) throw err;
    }
    const deadline = Date.now() + 15_000;
    for (;;) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
      const t = md?.topics.get(topic);
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return;
      if (Date.now() > deadline) throw new Error(`kafka harness: topic ${topic} has no leaders after 15 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.close();
  }
}
