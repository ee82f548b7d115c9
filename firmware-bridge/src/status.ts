/**
 * The bridge's status document (GET /status) and the same numbers in
 * Prometheus text (GET /metrics). This type is the contract the gateway's
 * status page reads; README.md documents every field.
 */
import { addInto, emptyPortCounters, type PortCounters } from './counters.js';
import type { DecoderStats } from './protocol/index.js';

export interface PortStatus {
  path: string;
  /** opening | open | waiting (to reopen) | stopped */
  state: string;
  baudRate: number;
  opens: number;
  openFailures: number;
  lastError: string | null;
  bytesIn: number;
  device: {
    id: string;
    firmware: string;
    capabilities: string[];
    maxFrame: number;
    since: number;
    /** its MQTT connection to the gateway is up */
    connected: boolean;
  } | null;
  commandsQueued: number;
  counters: PortCounters;
  decoder: DecoderStats;
}

export interface BridgeStatus {
  bridgeId: string;
  startedAt: number;
  uptimeSeconds: number;
  now: number;
  gateway: { url: string; devicesConnected: number };
  buffer: { messages: number; bytes: number; maxMessages: number; maxBytes: number; refused: number };
  ackLatency: {
    count: number;
    meanMs: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
  };
  totals: PortCounters & { bytesIn: number; decoder: DecoderStats };
  ports: PortStatus[];
}

export function totalsOf(ports: PortStatus[]): BridgeStatus['totals'] {
  const counters = emptyPortCounters();
  let decoder: DecoderStats | null = null;
  let bytesIn = 0;
  for (const p of ports) {
    addInto(counters, p.counters);
    decoder = decoder ? addInto(decoder, p.decoder) : { ...p.decoder };
    bytesIn += p.bytesIn;
  }
  return {
    ...counters,
    bytesIn,
    decoder: decoder ?? {
      bytes: 0,
      frames: 0,
      emptyFrames: 0,
      resyncs: 0,
      droppedBytes: 0,
      cobsErrors: 0,
      tooShort: 0,
      crcErrors: 0,
      oversize: 0,
      rejected: 0,
    },
  };
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition (format 0.0.4) of the status document. */
export function prometheusText(s: BridgeStatus): string {
  const out: string[] = [];
  const family = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    rows: Array<[Record<string, string>, number]>,
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) {
      const l = Object.entries(labels)
        .map(([k, x]) => `${k}="${esc(x)}"`)
        .join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${v}`);
    }
  };
  const perPort = (pick: (p: PortStatus) => number) =>
    s.ports.map((p): [Record<string, string>, number] => [{ port: p.path }, pick(p)]);
  const byKey = (pick: (p: PortStatus) => Record<string, number>, key: string) =>
    s.ports.flatMap((p) =>
      Object.entries(pick(p)).map(([k, v]): [Record<string, string>, number] => [
        { port: p.path, [key]: k },
        v,
      ]),
    );
  family(
    'tidegate_bridge_port_open',
    'gauge',
    'serial port is open (1) or not (0)',
    perPort((p) => (p.state === 'open' ? 1 : 0)),
  );
  family(
    'tidegate_bridge_port_opens_total',
    'counter',
    'successful opens of the port',
    perPort((p) => p.opens),
  );
  family(
    'tidegate_bridge_device_connected',
    'gauge',
    "device's MQTT connection is up",
    perPort((p) => (p.device?.connected ? 1 : 0)),
  );
  family(
    'tidegate_bridge_bytes_received_total',
    'counter',
    'bytes read from the port',
    perPort((p) => p.bytesIn),
  );
  family(
    'tidegate_bridge_bytes_sent_total',
    'counter',
    'bytes written to the port',
    perPort((p) => p.counters.bytesOut),
  );
  family(
    'tidegate_bridge_frames_received_total',
    'counter',
    'valid frames received, by type',
    byKey((p) => p.counters.framesIn, 'type'),
  );
  family(
    'tidegate_bridge_frames_sent_total',
    'counter',
    'frames sent, by type',
    byKey((p) => p.counters.framesOut, 'type'),
  );
  family(
    'tidegate_bridge_crc_errors_total',
    'counter',
    'frames with a CRC mismatch',
    perPort((p) => p.decoder.crcErrors),
  );
  family(
    'tidegate_bridge_resyncs_total',
    'counter',
    'framing errors after which the decoder resynchronised',
    perPort((p) => p.decoder.resyncs),
  );
  family(
    'tidegate_bridge_frames_rejected_total',
    'counter',
    'frames with a valid CRC but bad content',
    perPort((p) => p.decoder.rejected),
  );
  family(
    'tidegate_bridge_acks_sent_total',
    'counter',
    'ACKs sent to the device',
    perPort((p) => p.counters.acksSent),
  );
  family(
    'tidegate_bridge_nacks_sent_total',
    'counter',
    'NACKs sent to the device, by reason',
    byKey((p) => p.counters.nacksSent, 'reason'),
  );
  family(
    'tidegate_bridge_nacks_received_total',
    'counter',
    'NACKs received from the device, by reason',
    byKey((p) => p.counters.nacksReceived, 'reason'),
  );
  family(
    'tidegate_bridge_published_total',
    'counter',
    'DATA frames acknowledged by the gateway',
    perPort((p) => p.counters.published),
  );
  family(
    'tidegate_bridge_duplicates_total',
    'counter',
    'retransmitted DATA frames ACKed again, not republished',
    perPort((p) => p.counters.duplicates),
  );
  family('tidegate_bridge_commands_total', 'counter', 'COMMAND frames by outcome', [
    ...perPort((p) => p.counters.commandsAcked).map(([l, v]): [Record<string, string>, number] => [
      { ...l, outcome: 'acked' },
      v,
    ]),
    ...perPort((p) => p.counters.commandsFailed).map(([l, v]): [Record<string, string>, number] => [
      { ...l, outcome: 'failed' },
      v,
    ]),
  ]);
  family(
    'tidegate_bridge_commands_dropped_total',
    'counter',
    'commands not sent, by reason',
    byKey((p) => p.counters.commandsDropped, 'reason'),
  );
  family('tidegate_bridge_buffer_messages', 'gauge', 'DATA frames awaiting PUBACK', [
    [{}, s.buffer.messages],
  ]);
  family('tidegate_bridge_buffer_bytes', 'gauge', 'payload bytes awaiting PUBACK', [[{}, s.buffer.bytes]]);
  family('tidegate_bridge_busy_total', 'counter', 'DATA frames refused because the buffer was full', [
    [{}, s.buffer.refused],
  ]);
  const q = s.ackLatency;
  out.push(
    '# HELP tidegate_bridge_ack_latency_seconds DATA frame received to ACK written (recent samples)',
    '# TYPE tidegate_bridge_ack_latency_seconds summary',
  );
  if (q.p50Ms !== null) out.push(`tidegate_bridge_ack_latency_seconds{quantile="0.5"} ${q.p50Ms / 1000}`);
  if (q.p99Ms !== null) out.push(`tidegate_bridge_ack_latency_seconds{quantile="0.99"} ${q.p99Ms / 1000}`);
  out.push(`tidegate_bridge_ack_latency_seconds_sum ${((q.meanMs ?? 0) * q.count) / 1000}`);
  out.push(`tidegate_bridge_ack_latency_seconds_count ${q.count}`);
  return `${out.join('\n')}\n`;
}
