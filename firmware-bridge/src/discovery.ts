/**
 * Which device paths a `ports` entry names right now: a fixed path, the
 * matches of a glob, or the ttys of USB adapters with a given vendor (and
 * product) id. USB ids come from serialport's SerialPort.list(), which on Linux
 * runs `udevadm`; where udevadm is missing (minimal images, containers) the
 * same ids are read from sysfs, because list() then fails.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { SerialPort } from 'serialport';
import type { PortConfig } from './config.js';

/** `*` and `?` in the last part of the path; earlier parts are literal. */
export function globPaths(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!/[*?]/.test(base)) return existsSync(pattern) ? [pattern] : [];
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => join(dir, n));
}

export interface UsbPort {
  path: string;
  vendorId: string;
  productId: string;
}

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function readId(dir: string, file: string): string | null {
  try {
    return readFileSync(join(dir, file), 'utf8').trim().toLowerCase();
  } catch {
    return null;
  }
}

/**
 * USB serial ports from sysfs: /sys/class/tty/<name>/device resolves into the
 * USB interface; its ancestors hold idVendor/idProduct. `root` is for tests.
 */
export function usbPortsFromSysfs(root = '/sys', devDir = '/dev'): UsbPort[] {
  const ttyDir = join(root, 'class/tty');
  let names: string[];
  try {
    names = readdirSync(ttyDir);
  } catch {
    return [];
  }
  const out: UsbPort[] = [];
  for (const name of names.sort()) {
    let dir: string;
    try {
      dir = realpathSync(join(ttyDir, name, 'device'));
    } catch {
      continue; // virtual tty without a device
    }
    for (let i = 0; i < 6 && dir.startsWith(root) && dir !== root; i++, dir = dirname(dir)) {
      const vendorId = readId(dir, 'idVendor');
      const productId = readId(dir, 'idProduct');
      if (vendorId && productId) {
        out.push({ path: join(devDir, name), vendorId, productId });
        break;
      }
    }
  }
  return out;
}

export async function listUsbPorts(): Promise<UsbPort[]> {
  if (!onPath('udevadm')) return usbPortsFromSysfs();
  try {
    const ports = await SerialPort.list();
    return ports
      .filter((p) => p.vendorId && p.productId)
      .map((p) => ({
        path: p.path,
        vendorId: p.vendorId!.toLowerCase(),
        productId: p.productId!.toLowerCase(),
      }));
  } catch {
    return usbPortsFromSysfs();
  }
}

/** The paths the entry names now. `usb` is listed once per scan and shared by all entries. */
export function entryPaths(entry: PortConfig, usb: UsbPort[]): string[] {
  if (entry.path !== undefined) return [entry.path];
  if (entry.glob !== undefined) return globPaths(entry.glob);
  const want = entry.usb!;
  return usb
    .filter(
      (p) => p.vendorId === want.vendorId && (want.productId === undefined || p.productId === want.productId),
    )
    .map((p) => p.path);
}
