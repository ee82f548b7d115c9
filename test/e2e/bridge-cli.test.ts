/** The `tidegate-bridge` command line: help, check-config errors by path, exit codes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bridgeCli } from './bridge-support.js';

const dir = mkdtempSync(join(tmpdir(), 'tidegate-bridge-cli-'));
function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bridgeCli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** `${NAME}` as the config file spells it (kept out of template-looking literals). */
const env = (name: string) => `$${'{'}${name}}`;
function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('tidegate-bridge CLI', () => {
  it('prints help with --help and exits 0', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('tidegate-bridge start --config FILE');
    expect(r.out).toContain('check-config FILE');
  });

  it('accepts a valid config, with environment variables interpolated', () => {
    const f = file(
      'ok.yaml',
      [
        'gateway:',
        '  url: mqtt://127.0.0.1:1883',
        '  username: bridge',
        `  password: ${env('BRIDGE_PW')}`,
        'ports:',
        '  - path: /dev/ttyAMA0',
        '    baudRate: 921600',
        '    parity: even',
        '  - glob: /dev/ttyUSB*',
        '  - usb: { vendorId: "2341", productId: "0043" }',
      ].join('\n'),
    );
    const r = cli(['check-config', f], { BRIDGE_PW: 'secret' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ok (3 port entries)');
  });

  it('reports every problem with its path and exits 2', () => {
    const f = file(
      'bad.yaml',
      [
        'bufer: { maxMessages: 3 }',
        'gateway:',
        '  url: http://example',
        `  password: ${env('BRIDGE_NOT_SET')}`,
        'ports:',
        '  - path: /dev/ttyS0',
        '    baud: 9600',
        '  - glob: /dev/ttyUSB*',
        '    path: /dev/ttyUSB0',
        '  - usb: { vendorId: "xyz" }',
        '    stopBits: 3',
      ].join('\n'),
    );
    const r = cli(['check-config', f], { BRIDGE_NOT_SET: undefined });
    expect(r.code).toBe(2);
    for (const want of [
      'bufer: unknown key',
      'gateway.url: expected mqtt://host:port',
      'gateway.password: environment variable BRIDGE_NOT_SET is not set',
      'ports.0.baud: unknown key',
      'ports.1: give exactly one of path, glob, usb',
      'ports.2.usb.vendorId: expected 4 hex digits',
      'ports.2.stopBits',
    ]) {
      expect(r.err).toContain(want);
    }
  });

  it('refuses a config without ports, a missing file and YAML errors, with exit 2', () => {
    expect(cli(['check-config', file('empty.yaml', 'bridgeId: x\n')]).err).toContain(
      'ports: at least one port is needed',
    );
    expect(cli(['check-config', join(dir, 'missing.yaml')]).err).toContain('cannot read the file: ENOENT');
    const y = cli(['check-config', file('dup.yaml', 'bridgeId: a\nbridgeId: b\n')]);
    expect(y.code).toBe(2);
    expect(y.err).toContain('YAML');
  });

  it('start exits 2 on a bad config or no config, and unknown commands exit 2', () => {
    expect(cli(['start', '--config', file('bad2.yaml', 'ports: 3\n')]).code).toBe(2);
    expect(cli(['start']).code).toBe(2);
    expect(cli(['start', '--bogus']).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
  });
});
