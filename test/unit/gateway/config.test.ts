import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../gateway/src/commands/check-config.js';
import { ConfigError, loadConfig, parseConfig, parseConfigText } from '../../../gateway/src/config/load.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('runs with no file at all on the documented defaults', () => {
    const c = loadConfig(undefined, {});
    expect(c.mqtt.port).toBe(1883);
    expect(c.status.port).toBe(8080);
    expect(c.dataDir).toBe('./data');
    expect(c.routes).toMatchObject({ all: { from: '#', to: 'local', decode: 'raw', steps: [] } });
    expect(c.sinks.local?.type).toBe('file');
    expect(c.queue.durability).toBe('power-loss');
  });

  it('reports a wrong type with its path and the value it got', () => {
    expect(problems(() => parseConfig({ mqtt: { port: 'abc' } }, 't', {}))).toEqual([
      'mqtt.port: expected number, got "abc"',
    ]);
  });

  it('reports every problem at once, including unknown keys', () => {
    const p = problems(() =>
      parseConfig(
        { mqtt: { port: -1, colour: 'red' }, queue: { durability: 'sometimes' }, extra: 1 },
        't',
        {},
      ),
    );
    expect(p).toContain('extra: unknown key');
    expect(p).toContain('mqtt.colour: unknown key');
    expect(p.some((x) => x.startsWith('mqtt.port:'))).toBe(true);
    expect(p).toContain('queue.durability: got "sometimes", expected one of "power-loss", "process-crash"');
    expect(p.length).toBe(4);
  });

  it('refuses a route to a sink that does not exist', () => {
    expect(problems(() => parseConfig({ routes: { r1: { from: 'a/#', to: 'nowhere' } } }, 't', {}))).toEqual([
      'routes.r1.to: no sink named "nowhere" (sinks: local)',
    ]);
  });

  it('refuses an unknown sink type with the allowed ones', () => {
    const p = problems(() => parseConfig({ sinks: { s: { type: 'carrier-pigeon' } } }, 't', {}));
    expect(p[0]).toMatch(/^sinks\.s\.type: unknown value "carrier-pigeon", expected one of "file"/);
  });

  it('interpolates ${VAR} and ${VAR:-default} from the environment', () => {
    const c = parseConfig(
      { gatewayId: '${SITE}-gw', dataDir: '${DATA:-/var/lib/x}', status: { token: '${TOKEN}' } },
      't',
      { SITE: 'north', TOKEN: 'a-very-long-secret-token' },
    );
    expect(c.gatewayId).toBe('north-gw');
    expect(c.dataDir).toBe('/var/lib/x');
    expect(c.status.token).toBe('a-very-long-secret-token');
  });

  it('names a missing environment variable and where it is used', () => {
    expect(problems(() => parseConfig({ status: { token: '${NOPE}' } }, 't', {}))).toContain(
      'status.token: environment variable NOPE is not set',
    );
  });

  it('reports YAML syntax errors with a line number', () => {
    const p = problems(() => parseConfigText('mqtt:\n  port: [1,\n', 'f.yaml', {}));
    expect(p[0]).toMatch(/^YAML .* at line \d+/);
  });

  it('check-config prints the same errors and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mqtt:\n  port: abc\nsurprise: true\n');
    const out: string[] = [];
    const err: string[] = [];
    const code = await checkConfig(
      bad,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('mqtt.port: expected number, got "abc"');
    expect(err.join('\n')).toContain('surprise: unknown key');
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'mqtt:\n  port: 1884\n');
    expect(
      await checkConfig(
        good,
        (s) => out.push(s),
        (s) => err.push(s),
      ),
    ).toBe(0);
    expect(out.join('\n')).toContain('ok');
    expect(
      await checkConfig(
        join(dir, 'missing.yaml'),
        () => undefined,
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(err.join('\n')).toContain('cannot read the file: ENOENT');
  });
});
