/**
 * Serial devices: the seam, not yet the wiring.
 *
 * A serial device is a SimDevice whose DeviceLink writes firmware-bridge
 * frames to one end of a pseudo-terminal pair while tidegate-bridge reads the
 * other. firmware-bridge exports SimulatedFirmware (HELLO, DATA with
 * retransmission, ACK only after the gateway's PUBACK) and PtyPair; a
 * SerialLink would wrap them:
 *
 *   open(events)   -> create the PTY pair, start SimulatedFirmware on one end; up() after HELLO is ACKed
 *   send(payload)  -> firmware.send(payload); resolve when the result is ok, reject otherwise
 *   drop()         -> close and reopen the PTY (a device unplugged)
 *
 * It is not wired yet because the bridge and its protocol module were still
 * changing while this was written; importing them here would couple two moving
 * parts. `linkFor` is where the choice will be made.
 */
import type { DeviceLink } from './link.js';

export type Transport = 'mqtt' | 'serial';

export interface SerialLinkOptions {
  deviceId: string;
  /** the bridge's serial path for this device (the far end of the PTY pair) */
  bridgePath: string;
  baudRate: number;
}

export type SerialLinkFactory = (o: SerialLinkOptions) => DeviceLink;

let serialFactory: SerialLinkFactory | null = null;

/** Registers the serial link implementation (from firmware-bridge, once stable). */
export function registerSerialLink(factory: SerialLinkFactory): void {
  serialFactory = factory;
}

export function serialLink(o: SerialLinkOptions): DeviceLink {
  if (!serialFactory) {
    throw new Error(
      'serial devices are not available yet: no SerialLink is registered (see device-sim/src/serial.ts)',
    );
  }
  return serialFactory(o);
}
