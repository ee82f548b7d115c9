// CRC-16/CCITT-FALSE, the frame check sequence of the Tidegate serial protocol.
// Spec: firmware-bridge/PROTOCOL.md §4 (CRC).
//
// Parameters (Rocksoft model): width 16, poly 0x1021, init 0xFFFF, refin false,
// refout false, xorout 0x0000, check("123456789") = 0x29B1, residue 0x0000.
// The CRC is computed over version, type, seq and payload and appended
// big-endian; running the CRC over a whole frame including its CRC yields 0.

/** Initial register value of CRC-16/CCITT-FALSE. */
export const CRC16_INIT = 0xffff;

const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[i] = crc;
  }
  return table;
})();

/** Feeds one byte into a running CRC-16/CCITT-FALSE register. */
export function crc16Update(crc: number, byte: number): number {
  return ((crc << 8) ^ TABLE[((crc >>> 8) ^ byte) & 0xff]!) & 0xffff;
}

/**
 * CRC-16/CCITT-FALSE of `data[start, end)`. Pass a previous result as `crc`
 * to continue a computation across several buffers.
 */
export function crc16(data: Uint8Array, start = 0, end = data.length, crc = CRC16_INIT): number {
  let c = crc;
  for (let i = start; i < end; i++) {
    c = ((c << 8) ^ TABLE[((c >>> 8) ^ data[i]!) & 0xff]!) & 0xffff;
  }
  return c;
}
