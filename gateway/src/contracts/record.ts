/**
 * The record envelope: what a queued message is, and how it looks upstream.
 * Shared by the gateway's sinks, device-sim's verifier and the bridge, so the
 * three cannot drift.
 */

export type ContentType = 'application/json' | 'application/cbor' | 'application/octet-stream';

/** One message as it is appended to a sink's queue. */
export interface QueuedMessage {
  sink: string;
  route: string;
  deviceId: string;
  topic: string;
  receivedAt: number;
  contentType: ContentType;
  payload: Buffer;
}

/** A message as read back from the queue: it has its stable sequence number. */
export interface StoredRecord extends QueuedMessage {
  seq: number;
  /** bytes this row counts against the sink's budget */
  size: number;
}

/** `<gatewayId>/<seq>`: stable across retries and restarts, so consumers can drop duplicates. */
export function recordId(gatewayId: string, seq: number): string {
  return `${gatewayId}/${seq}`;
}

/** The JSON form of a record (file sink lines, HTTP/MQTT JSON batches). */
export interface RecordEnvelope {
  id: string;
  gatewayId: string;
  deviceId: string;
  topic: string;
  route: string;
  receivedAt: number;
  contentType: ContentType;
  /** the payload itself when it is JSON */
  payload?: unknown;
  /** the payload, base64, when it is not JSON */
  payloadBase64?: string;
}

export function toEnvelope(gatewayId: string, r: StoredRecord): RecordEnvelope {
  const base = {
    id: recordId(gatewayId, r.seq),
    gatewayId,
    deviceId: r.deviceId,
    topic: r.topic,
    route: r.route,
    receivedAt: r.receivedAt,
    contentType: r.contentType,
  };
  if (r.contentType === 'application/json') {
    try {
      return { ...base, payload: JSON.parse(r.payload.toString('utf8')) };
    } catch {
      // stored as JSON by a route that did not validate it: keep the bytes
    }
  }
  return { ...base, payloadBase64: r.payload.toString('base64') };
}

/** Topic layout shared by devices, the bridge and the default ACL. */
export const topics = {
  deviceRoot: (deviceId: string) => `devices/${deviceId}`,
  telemetry: (deviceId: string, suffix = 'telemetry') => `devices/${deviceId}/${suffix}`,
  commands: (deviceId: string) => `devices/${deviceId}/commands/#`,
} as const;
