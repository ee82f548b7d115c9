/**
 * Port discovery: globs over a real folder, and USB vendor/product ids read
 * from a sysfs-shaped tree (the fallback when udevadm is missing, as on this
 * machine: SerialPort.list() then fails).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBridgeConfig } from '../../firmware-bridge/src/config.js';
import {
  entryPaths,
  globPaths,
  listUsbPorts,
  usbPortsFromSysfs,
} from '../../firmware-bridge/src/discovery.js';

function fakeSysfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'tidegate-sysfs-'));
  const usbDev = (bus: string, vid: string, pid: string, tty: string) => {
    const dev = join(root, 'devices/pci0000:00/usb1', bus);
    const iface = join(dev, `${bus}:1.0`, tty);
    mkdirSync(iface, { recursive: true });
    writeFileSync(join(dev, 'idVendor'), `${vid}\n`);
    writeFileSync(join(dev, 'idProduct'), `${pid}\n`);
    mkdirSync(join(root, 'class/tty', tty), { recursive: true });
    symlinkSync(iface, join(root, 'class/tty', tty, 'device'));
  };
  usbDev('1-1', '2341', '0043', 'ttyACM0');
  usbDev('1-2', '10C4', 'EA60', 'ttyUSB0');
  usbDev('1-3', '2341', '8036', 'ttyACM1');
  mkdirSync(join(root, 'class/tty/tty0'), { recursive: true }); // virtual console: no device link
  return root;
}

const entry = (e: Record<string, unknown>) => parseBridgeConfig({ ports: [e] }, 'test').ports[0]!;

describe('port discovery', () => {
  it('reads USB vendor and product ids from sysfs, lower-cased', () => {
    expect(usbPortsFromSysfs(fakeSysfs(), '/dev')).toEqual([
      { path: '/dev/ttyACM0', vendorId: '2341', productId: '0043' },
      { path: '/dev/ttyACM1', vendorId: '2341', productId: '8036' },
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60' },
    ]);
  });

  it('selects ports by vendor id, or by vendor and product id', () => {
    const usb = usbPortsFromSysfs(fakeSysfs(), '/dev');
    expect(entryPaths(entry({ usb: { vendorId: '2341' } }), usb)).toEqual(['/dev/ttyACM0', '/dev/ttyACM1']);
    expect(entryPaths(entry({ usb: { vendorId: '2341', productId: '8036' } }), usb)).toEqual([
      '/dev/ttyACM1',
    ]);
    expect(entryPaths(entry({ usb: { vendorId: '10C4', productId: 'EA60' } }), usb)).toEqual([
      '/dev/ttyUSB0',
    ]);
    expect(entryPaths(entry({ usb: { vendorId: 'ffff' } }), usb)).toEqual([]);
  });

  it('lists USB ports on this machine without throwing, whether or not udevadm exists', async () => {
    const ports = await listUsbPorts();
    expect(Array.isArray(ports)).toBe(true);
  });

  it('matches * and ? in the last path part, sorted; a plain path only when it exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidegate-glob-'));
    for (const n of ['ttyUSB1', 'ttyUSB0', 'ttyUSB10', 'ttyACM0', 'tty.USB0'])
      writeFileSync(join(dir, n), '');
    expect(globPaths(join(dir, 'ttyUSB*'))).toEqual(
      ['ttyUSB0', 'ttyUSB1', 'ttyUSB10'].map((n) => join(dir, n)),
    );
    expect(globPaths(join(dir, 'ttyUSB?'))).toEqual(['ttyUSB0', 'ttyUSB1'].map((n) => join(dir, n)));
    expect(globPaths(join(dir, 'tty.*'))).toEqual([join(dir, 'tty.USB0')]);
    expect(globPaths(join(dir, 'ttyACM0'))).toEqual([join(dir, 'ttyACM0')]);
    expect(globPaths(join(dir, 'nothing*'))).toEqual([]);
    expect(globPaths(join(dir, 'missing-dir', '*'))).toEqual([]);
  });
});
