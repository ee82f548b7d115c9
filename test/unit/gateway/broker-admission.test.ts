/** Pure logic of admission: ACL rules, topic filter covering, token bucket, keep-alive bounds, credentials. */
import { describe, expect, it } from 'vitest';
import { Acl, AclError, DEFAULT_DEVICE_RULES } from '../../../gateway/src/broker/acl.js';
import { Credentials, CredentialsError, hashPassword } from '../../../gateway/src/broker/auth.js';
import {
  keepAliveProblem,
  type Limits,
  TokenBucket,
  topicProblem,
} from '../../../gateway/src/broker/limits.js';
import { filterCovered, literalPrefix, topicMatches } from '../../../gateway/src/broker/topics.js';

const dev = (id: string) => ({ clientId: id, user: id });

describe('topics', () => {
  it.each([
    ['a/#', 'a', true], // [MQTT-4.7.1-2] # matches the parent level
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['+/b', '$SYS/b', false], // [MQTT-4.7.2-1]
    ['#', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['a/b', 'a/b/', false],
  ])('filter %s matches %s: %s', (f, t, want) => expect(topicMatches(f, t)).toBe(want));

  it.each([
    ['devices/d1/#', 'devices/d1/commands/#', true],
    ['devices/d1/commands/#', 'devices/d1/#', false],
    ['devices/+/t', 'devices/+/t', true],
    ['devices/d1/t', 'devices/+/t', false],
    ['a/#', 'a', true],
    ['#', '$SYS/#', false],
  ])('pattern %s covers filter %s: %s', (p, f, want) => expect(filterCovered(p, f)).toBe(want));

  it('literal prefix stops before the first wildcard', () => {
    expect(literalPrefix('a/b/#')).toBe('a/b');
    expect(literalPrefix('+/b')).toBe('');
    expect(literalPrefix('a/b')).toBe('a/b');
  });
});

describe('ACL', () => {
  const acl = Acl.parse(
    [
      'topic read public/#',
      'user ops',
      'topic readwrite devices/#',
      'topic deny devices/vault/#',
      'client dash',
      'topic read devices/+/telemetry',
      ...DEFAULT_DEVICE_RULES,
    ],
    'test',
  );

  it('lets a device publish under its own subtree only (default device rule)', () => {
    expect(acl.canPublish(dev('d1'), 'devices/d1/telemetry')).toBe(true);
    expect(acl.canPublish(dev('d1'), 'devices/d2/telemetry')).toBe(false);
    expect(acl.canSubscribe(dev('d1'), 'devices/d1/commands/#')).toBe(true);
    expect(acl.canSubscribe(dev('d1'), 'devices/d1/#')).toBe(false);
    expect(acl.canSubscribe(dev('d1'), 'devices/+/commands/#')).toBe(false);
  });

  it('general topic rules apply to anonymous clients only, as in Mosquitto', () => {
    expect(acl.canSubscribe({ clientId: 'x', user: null }, 'public/news')).toBe(true);
    expect(acl.canSubscribe(dev('d1'), 'public/news')).toBe(false);
  });

  it('deny wins over grants, at publish and at delivery', () => {
    const ops = { clientId: 'ops-1', user: 'ops' };
    expect(acl.canPublish(ops, 'devices/d1/commands/x')).toBe(true);
    expect(acl.canPublish(ops, 'devices/vault/key')).toBe(false);
    expect(acl.canSubscribe(ops, 'devices/#')).toBe(true);
    expect(acl.canRead(ops, 'devices/vault/key')).toBe(false);
    expect(acl.canSubscribe(ops, 'devices/vault/#')).toBe(false);
  });

  it('client rules match the client id whatever the user', () => {
    expect(acl.canSubscribe({ clientId: 'dash', user: 'someone' }, 'devices/+/telemetry')).toBe(true);
    expect(acl.canPublish({ clientId: 'dash', user: 'someone' }, 'devices/a/telemetry')).toBe(false);
  });

  it('a client id holding wildcards or a separator never widens a pattern', () => {
    expect(acl.canPublish({ clientId: '+', user: '+' }, 'devices/+/x')).toBe(false);
    expect(acl.canSubscribe({ clientId: '#', user: '#' }, 'devices/#/commands/#')).toBe(false);
    expect(acl.canPublish({ clientId: 'a/b', user: 'a/b' }, 'devices/a/b/x')).toBe(false);
  });

  it('reports a bad line with its source and number', () => {
    expect(() => Acl.parse(['topic read a/#/b'], 'acl.conf')).toThrow(AclError);
    expect(() => Acl.parse(['', 'allow everything'], 'acl.conf')).toThrow(/acl.conf:2/);
  });
});

describe('limits', () => {
  const l: Limits = {
    messageRate: 10,
    messageBurst: 2,
    minKeepAliveS: 5,
    maxKeepAliveS: 600,
    maxTopicLength: 16,
    maxTopicLevels: 3,
    maxSubscriptionsPerClient: 1,
  };

  it('token bucket: a burst passes, then each message waits 1/rate', () => {
    const b = new TokenBucket(10, 2, 0);
    expect([b.take(0), b.take(0)]).toEqual([0, 0]);
    expect(b.take(0)).toBe(100);
    expect(b.take(0)).toBe(200);
    // after a pause of 1 s the bucket is full again (capped at the burst)
    expect(b.take(1300)).toBe(0);
  });

  it('keep-alive bounds: 0 means never, which is over any maximum', () => {
    expect(keepAliveProblem(60, l)).toBeNull();
    expect(keepAliveProblem(0, l)).toMatch(/maximum/);
    expect(keepAliveProblem(601, l)).toMatch(/maximum/);
    expect(keepAliveProblem(2, l)).toMatch(/minimum/);
    expect(keepAliveProblem(0, { ...l, maxKeepAliveS: 0 })).toBeNull();
  });

  it('topic length in bytes and depth', () => {
    expect(topicProblem('a/b/c', l)).toBeNull();
    expect(topicProblem('a/b/c/d', l)).toMatch(/levels/);
    expect(topicProblem('é'.repeat(9), l)).toMatch(/bytes/);
  });
});

describe('credentials', () => {
  it('verifies the right password only, and round-trips through its file format', async () => {
    const c = new Credentials();
    c.set('dev1', await hashPassword('right', { N: 1024, r: 8, p: 1 }));
    const again = Credentials.parse(`# devices\n\n${c.serialize()}`, 'passwd');
    expect(await again.verify('dev1', 'right')).toBe(true);
    expect(await again.verify('dev1', 'wrong')).toBe(false);
    expect(await again.verify('nobody', 'right')).toBe(false);
    expect(again.users()).toEqual(['dev1']);
  });

  it('refuses a malformed line with file and line number', () => {
    expect(() => Credentials.parse('dev1:plaintext\n', 'passwd')).toThrow(CredentialsError);
    expect(() => Credentials.parse('ok:x\n', 'passwd')).toThrow(/passwd:1/);
  });
});
