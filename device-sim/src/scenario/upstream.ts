/**
 * The upstream a scenario forwards to, and from which it verifies: a file
 * sink folder, a private Mosquitto (started, stopped and restarted by the
 * runner, with persistence so its queued messages survive), or Kafka (a given
 * bootstrap, or the repository's test broker harness, which can be stopped).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type Collected, MqttCollector, readFileSource, readKafkaSource } from '../verify/sources.js';
import { freePort } from './gateway.js';

export interface Upstream {
  readonly kind: 'file' | 'mqtt' | 'kafka';
  readonly description: string;
  /** the gateway sink that forwards to this upstream (scenario `sink:` settings are merged over it) */
  sinkConfig(): Record<string, unknown>;
  /** begin collecting (before the devices start) */
  open(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** everything that arrived; waits for at least `expect` records where the source streams */
  collect(expect: number): Promise<Collected>;
  close(): Promise<void>;
}

export class FileUpstream implements Upstream {
  readonly kind = 'file';
  constructor(private readonly dir: string) {}
  get description() {
    return `file sink folder ${this.dir}`;
  }
  sinkConfig() {
    return { type: 'file', path: this.dir, fsync: true };
  }
  async open() {}
  async stop(): Promise<void> {
    // the file sink writes to a local folder that cannot go away under it; say so instead of pretending
    throw new Error('a file upstream cannot be stopped: use upstream mqtt or kafka for outage scenarios');
  }
  async start() {}
  collect() {
    return readFileSource(this.dir);
  }
  async close() {}
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export class MosquittoUpstream implements Upstream {
  readonly kind = 'mqtt';
  private proc: ChildProcess | null = null;
  private port = 0;
  private collector: MqttCollector | null = null;
  private readonly conf: string;

  constructor(private readonly dir: string) {
    this.conf = join(dir, 'mosquitto.conf');
  }
  get description() {
    return `private mosquitto on 127.0.0.1:${this.port}`;
  }
  sinkConfig() {
    return { type: 'mqtt', url: `mqtt://127.0.0.1:${this.port}`, qos: 1, topic: 'sim-up/{topic}' };
  }

  async open(): Promise<void> {
    this.port = await freePort();
    mkdirSync(this.dir, { recursive: true });
    // mosquitto started as root drops to its own user, which must be able to write its database
    chmodSync(this.dir, 0o777);
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${this.dir}/`,
      // keep everything queued for the verifier's session, however long the run
      'max_queued_messages 0',
      'max_queued_bytes 0',
    ];
    writeFileSync(this.conf, `${lines.join('\n')}\n`);
    await this.start();
    this.collector = new MqttCollector(`mqtt://127.0.0.1:${this.port}`, 'sim-up/#', `verify-${process.pid}`);
    await this.collector.start();
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn('mosquitto', ['-c', this.conf], { stdio: 'ignore' });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    for (let i = 0; i < 200; i++) {
      if (await listening(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not listen on ${this.port}`);
  }

  /** SIGTERM: mosquitto saves its database (the verifier's queued messages) and exits */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  async collect(expect: number): Promise<Collected> {
    await this.collector!.settle(expect, 2000, 60_000);
    return this.collector!.collected;
  }

  async close(): Promise<void> {
    await this.collector?.stop().catch(() => undefined);
    await this.stop();
  }
}

/** Outage control of a Kafka broker (the test harness provides one). */
export interface KafkaControl {
  bootstrap: string;
  shutdown?(): Promise<void>;
  restart?(): Promise<void>;
}

export class KafkaUpstream implements Upstream {
  readonly kind = 'kafka';
  constructor(
    private readonly control: KafkaControl,
    private readonly topic: string,
  ) {}
  get description() {
    return `kafka ${this.control.bootstrap} topic ${this.topic}`;
  }
  sinkConfig() {
    return { type: 'kafka', brokers: [this.control.bootstrap], topic: this.topic, autocreateTopics: true };
  }
  async open() {}
  async stop(): Promise<void> {
    if (!this.control.shutdown)
      throw new Error('this Kafka broker cannot be stopped from here (use --kafka-harness)');
    await this.control.shutdown();
  }
  async start(): Promise<void> {
    if (!this.control.restart)
      throw new Error('this Kafka broker cannot be started from here (use --kafka-harness)');
    await this.control.restart();
  }
  collect(expect: number) {
    return readKafkaSource({ brokers: [this.control.bootstrap], topics: [this.topic], expect, idleMs: 3000 });
  }
  async close() {}
}
