// Public surface of the firmware bridge for the other parts (device-sim, the
// gateway's status page): the protocol, the simulated firmware, the PTY pair,
// and the bridge with its status document type.

export { Bridge } from './bridge.js';
export { type BridgeConfig, loadBridgeConfig, parseBridgeConfig } from './config.js';
export { PacedWriter } from './paced-writer.js';
export * from './protocol/index.js';
export { PtyPair } from './pty.js';
export { type SendResult, SimulatedFirmware, type SimulatedFirmwareOptions } from './simulated-firmware.js';
export type { BridgeStatus, PortStatus } from './status.js';
