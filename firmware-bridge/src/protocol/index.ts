// Public surface of the Tidegate serial protocol: the single shared contract
// between the firmware bridge, the device simulator and the C reference in
// firmware-bridge/firmware. Spec: firmware-bridge/PROTOCOL.md.
// No serialport or MQTT imports here, on purpose.

export * from './cbor.js';
export * from './cobs.js';
export * from './crc.js';
export * from './decoder.js';
export * from './frame.js';
export * from './session.js';
