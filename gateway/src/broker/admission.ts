/**
 * Admission: who may connect (identity), what they may publish and subscribe
 * to (ACL), and the per-client limits. These are aedes' hooks; each refusal is
 * counted in tidegate_mqtt_refused_total{what,reason} and logged with the
 * device and the topic. The publish check runs before ingest (broker.ts), so a
 * refused PUBLISH never reaches any queue.
 */
import type { AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { Acl, DEFAULT_DEVICE_RULES, type Who } from './acl.js';
import { Credentials } from './auth.js';
import type { MqttConfig } from './config.js';
import { keepAliveProblem, type Limits, TokenBucket, topicProblem } from './limits.js';
import type { Connection } from './listeners.js';

interface ClientState {
  conn: Connection;
  who: Who | null;
  refuse: { code: 2 | 5; reason: string; detail: string } | null;
  will: { topic: string } | null;
  bucket: TokenBucket | null;
  subs: Set<string>;
  resumeTimer: NodeJS.Timeout | null;
}

type Verdict = { ok: true; delayMs: number } | { ok: false; reason: string; detail: string };

function refusal(code: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code });
}

export class Admission {
  private readonly state = new WeakMap<Client, ClientState>();
  private credentials: Credentials | null = null;
  private acl: Acl | null = null;

  constructor(
    private readonly cfg: MqttConfig,
    private readonly limits: Limits,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Any identity configured: anonymous access is off. */
  get identities(): boolean {
    return this.cfg.auth.passwordFile !== null || (this.cfg.tls?.clientCertificates ?? 'off') !== 'off';
  }

  /** (Re)load the credentials and the ACL; throws with file and line on a bad file. */
  load(): void {
    const { auth, acl } = this.cfg;
    const credentials = auth.passwordFile ? Credentials.load(auth.passwordFile) : null;
    const lines = [...(acl.file ? Acl.load(acl.file) : []), ...acl.rules];
    let rules: Acl | null = null;
    if (lines.some((l) => l.trim() && !l.trim().startsWith('#')))
      rules = Acl.parse(lines, acl.file ?? 'mqtt.acl.rules');
    else if (this.identities) rules = Acl.parse(DEFAULT_DEVICE_RULES, 'default device rule');
    this.credentials = credentials;
    this.acl = rules;
  }

  describe(): Record<string, unknown> {
    return {
      anonymous: !this.identities,
      users: this.credentials?.size ?? 0,
      clientCertificates: this.cfg.tls?.clientCertificates ?? 'off',
      aclRules: this.acl?.size ?? 'none (every topic allowed)',
    };
  }

  attach(client: Client, conn: Connection): void {
    this.state.set(client, {
      conn,
      who: null,
      refuse: null,
      will: null,
      bucket: null,
      subs: new Set(),
      resumeTimer: null,
    });
  }

  private refused(
    what: 'connect' | 'publish' | 'subscribe',
    reason: string,
    fields: Record<string, unknown>,
  ): void {
    this.metrics.refused.inc({ what, reason });
    this.log.warn({ ...fields, reason }, `${what} refused`);
  }

  /** Refuse on the transport alone (bad client certificate, too many connections). */
  refuseConnection(reason: string, fields: Record<string, unknown>): void {
    this.refused('connect', reason, fields);
  }

  preConnect(client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void {
    const s = this.state.get(client);
    if (!s) {
      cb(null, true);
      return;
    }
    s.will = packet.will ? { topic: packet.will.topic } : null;
    if (!packet.clientId && packet.clean === false) {
      // [MQTT-3.1.3-8]: aedes 1.2.0 invents an id here; the spec demands CONNACK 2 and close
      s.refuse = { code: 2, reason: 'empty_client_id', detail: 'empty client id with clean session false' };
    } else {
      const problem = keepAliveProblem(packet.keepalive ?? 0, this.limits);
      if (problem) s.refuse = { code: 2, reason: 'keep_alive', detail: problem };
    }
    cb(null, true);
  }

  authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    cb: (err: AuthenticateError | null, ok: boolean | null) => void,
  ): void {
    const s = this.state.get(client);
    if (!s) {
      cb(null, true);
      return;
    }
    const fields = { client: client.id, user: username, remote: s.conn.remote, transport: s.conn.transport };
    const deny = (code: 2 | 4 | 5, reason: string, detail: string) => {
      this.refused('connect', reason, { ...fields, detail });
      cb(refusal(code, detail), null);
    };
    if (s.refuse) {
      deny(s.refuse.code, s.refuse.reason, s.refuse.detail);
      return;
    }
    void this.identify(s, username, password).then((id) => {
      if (!id.ok) return deny(id.code, id.reason, id.detail);
      const who: Who = { clientId: client.id, user: id.user };
      if (id.user !== null && this.cfg.auth.clientIdMustMatchUser && client.id !== id.user) {
        return deny(2, 'client_id_mismatch', `client id "${client.id}" is not the identity "${id.user}"`);
      }
      if (s.will && this.acl && !this.acl.canPublish(who, s.will.topic)) {
        return deny(5, 'acl_will', `will topic "${s.will.topic}" is not allowed by the ACL`);
      }
      s.who = who;
      if (this.limits.messageRate > 0) {
        s.bucket = new TokenBucket(this.limits.messageRate, this.limits.messageBurst, Date.now());
      }
      cb(null, true);
    });
  }

  private async identify(
    s: ClientState,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<{ ok: true; user: string | null } | { ok: false; code: 4 | 5; reason: string; detail: string }> {
    if (s.conn.certIdentity) return { ok: true, user: s.conn.certIdentity };
    if (
      this.cfg.tls?.clientCertificates === 'required' &&
      (s.conn.transport === 'tls' || s.conn.transport === 'wss')
    ) {
      return { ok: false, code: 5, reason: 'no_certificate', detail: 'a client certificate is required' };
    }
    if (username !== undefined && this.credentials) {
      const ok = await this.credentials.verify(username, password ?? Buffer.alloc(0));
      if (ok) return { ok: true, user: username };
      const reason = this.credentials.has(username) ? 'bad_password' : 'unknown_user';
      return { ok: false, code: 4, reason, detail: 'bad user name or password' };
    }
    if (!this.identities) return { ok: true, user: null };
    return { ok: false, code: 5, reason: 'anonymous', detail: 'anonymous access is off: send credentials' };
  }

  /** Runs before ingest. Also applies the rate limit by pausing the client's reads. */
  checkPublish(client: Client, packet: PublishPacket): Verdict {
    const s = this.state.get(client);
    const fields = { client: client.id, topic: packet.topic };
    const problem = topicProblem(packet.topic, this.limits);
    if (problem) {
      this.refused('publish', 'topic_limit', { ...fields, detail: problem });
      return { ok: false, reason: 'topic_limit', detail: problem };
    }
    if (this.acl && s?.who && !this.acl.canPublish(s.who, packet.topic)) {
      this.refused('publish', 'acl', fields);
      return { ok: false, reason: 'acl', detail: `publish to "${packet.topic}" is not allowed by the ACL` };
    }
    return { ok: true, delayMs: s?.bucket ? this.throttle(client, s) : 0 };
  }

  /**
   * Over the rate, this PUBLISH is held for `wait` ms (so its PUBACK comes later and the
   * client's in-flight window fills) and the socket is not read meanwhile (so TCP flow
   * control pushes back). Packets already read in the same chunk get growing delays, which
   * keeps their order.
   */
  private throttle(client: Client, s: ClientState): number {
    const wait = s.bucket!.take(Date.now());
    if (wait === 0) return 0;
    this.metrics.throttled.inc();
    if (s.resumeTimer) clearTimeout(s.resumeTimer);
    // stop reading: the kernel buffers fill and TCP flow control slows the device down
    // aedes' Client has pause()/resume() (it pauses during authentication); its types omit them
    const c = client as Client & { pause(): void; resume(): void };
    c.pause();
    s.resumeTimer = setTimeout(() => {
      s.resumeTimer = null;
      if (!c.closed) c.resume();
    }, wait);
    return wait;
  }

  authorizeSubscribe(
    client: Client,
    sub: Subscription,
    cb: (err: Error | null, sub?: Subscription | null) => void,
  ): void {
    const s = this.state.get(client);
    const fields = { client: client.id, topic: sub.topic };
    let reason: string | null = null;
    let detail: string | undefined;
    const problem = topicProblem(sub.topic, this.limits);
    if (problem) [reason, detail] = ['topic_limit', problem];
    else if (s && !s.subs.has(sub.topic) && s.subs.size >= this.limits.maxSubscriptionsPerClient) {
      [reason, detail] = [
        'too_many_subscriptions',
        `over mqtt.limits.maxSubscriptionsPerClient (${this.limits.maxSubscriptionsPerClient})`,
      ];
    } else if (this.acl && s?.who && !this.acl.canSubscribe(s.who, sub.topic)) reason = 'acl';
    if (reason) {
      this.refused('subscribe', reason, { ...fields, detail });
      // [MQTT-3.9.3-2] failure return code 0x80 for this filter; the others are unaffected
      cb(null, null);
      return;
    }
    s?.subs.add(sub.topic);
    cb(null, sub);
  }

  /** aedes stores every filter of a SUBSCRIBE in a persistent session, refused ones too; we do not. */
  subscriptionAllowed(client: object, topic: string): boolean {
    const s = this.state.get(client as Client);
    return !s || s.subs.has(topic);
  }

  unsubscribed(client: Client, topics: string[]): void {
    const s = this.state.get(client);
    for (const t of topics) s?.subs.delete(t);
  }

  authorizeForward<P extends { topic: string }>(client: Client, packet: P): P | null {
    const s = this.state.get(client);
    if (!this.acl || !s?.who) return packet;
    return this.acl.canRead(s.who, packet.topic) ? packet : null;
  }

  closed(client: Client): void {
    const s = this.state.get(client);
    if (s?.resumeTimer) clearTimeout(s.resumeTimer);
  }
}
