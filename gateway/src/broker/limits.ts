/**
 * Per-client limits that aedes 1.2 does not have or has only partly: a message
 * rate (token bucket), keep-alive bounds, topic length and depth, subscriptions
 * per client. Pure logic; broker.ts applies the verdicts.
 */
import { topicLevels } from './topics.js';

export interface Limits {
  messageRate: number;
  messageBurst: number;
  minKeepAliveS: number;
  maxKeepAliveS: number;
  maxTopicLength: number;
  maxTopicLevels: number;
  maxSubscriptionsPerClient: number;
}

/**
 * Token bucket: `rate` tokens per second, at most `burst` stored. take() spends
 * one token and returns how long the caller should stop reading so the average
 * stays at `rate` (0 when a token was there). The broker pauses the client's
 * socket for that long: TCP flow control slows the device down, and nothing it
 * already sent (or was acknowledged) is dropped.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }
}

/**
 * Keep-alive bounds. MQTT 3.1.1 gives a server no way to impose a keep-alive,
 * so, as Mosquitto does with max_keepalive for 3.1.1 clients, a CONNECT outside
 * the bounds is refused with return code 2. 0 means "no keep-alive", which is
 * longer than any maximum.
 */
export function keepAliveProblem(keepalive: number, l: Limits): string | null {
  if (l.maxKeepAliveS > 0 && (keepalive === 0 || keepalive > l.maxKeepAliveS)) {
    return `keep-alive ${keepalive}s is over the maximum of ${l.maxKeepAliveS}s (mqtt.limits.maxKeepAlive)`;
  }
  if (keepalive !== 0 && keepalive < l.minKeepAliveS) {
    return `keep-alive ${keepalive}s is under the minimum of ${l.minKeepAliveS}s (mqtt.limits.minKeepAlive)`;
  }
  return null;
}

export function topicProblem(topic: string, l: Limits): string | null {
  const len = Buffer.byteLength(topic);
  if (len > l.maxTopicLength)
    return `topic of ${len} bytes is over mqtt.limits.maxTopicLength (${l.maxTopicLength})`;
  const levels = topicLevels(topic);
  if (levels > l.maxTopicLevels)
    return `topic of ${levels} levels is over mqtt.limits.maxTopicLevels (${l.maxTopicLevels})`;
  return null;
}
