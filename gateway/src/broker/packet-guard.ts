/**
 * Reads MQTT fixed headers as bytes arrive, before aedes' parser buffers a
 * packet, so an oversize packet is refused after its first 5 bytes instead of
 * after 10 MB sit in memory. (aedes 1.2 has no maximum packet size for MQTT 3.1.1.)
 * Remaining-length encoding: MQTT 3.1.1 section 2.2.3, at most 4 bytes [MQTT-2.2.3].
 */
const UNSUBSCRIBE = 10;

export class PacketGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxPacketSize: number) {}

  /** Returns null when the chunk is acceptable, or why the connection must close. */
  check(chunk: Buffer): { code: 'PACKET_TOO_LARGE' | 'MALFORMED_PACKET'; message: string } | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'type') {
        this.type = chunk[i++]! >> 4;
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const b = chunk[i++]!;
        this.remaining += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (this.remaining > this.maxPacketSize) {
          return {
            code: 'PACKET_TOO_LARGE',
            message: `packet of ${this.remaining} bytes is over the limit of ${this.maxPacketSize} (mqtt.maxPacketSize)`,
          };
        }
        if ((b & 0x80) === 0 && this.type === UNSUBSCRIBE && this.remaining <= 2) {
          // [MQTT-3.10.3-2]: an UNSUBSCRIBE with no topic filter is a protocol violation, which
          // closes the connection [MQTT-4.8.0-1]; mqtt-packet parses it and aedes sent UNSUBACK
          return { code: 'MALFORMED_PACKET', message: 'UNSUBSCRIBE without a topic filter' };
        }
        if ((b & 0x80) === 0) this.state = this.remaining === 0 ? 'type' : 'body';
        else if (this.lengthBytes === 4)
          return { code: 'MALFORMED_PACKET', message: 'malformed remaining length' };
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'type';
      }
    }
    return null;
  }
}
