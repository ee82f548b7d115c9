/**
 * Batch bodies shared by the sinks that send many records in one request or
 * message: a JSON array, NDJSON, or a CBOR array of record envelopes.
 */
import { encode as cborEncode } from 'cbor-x';
import { type RecordEnvelope, recordId, type StoredRecord, toEnvelope } from '../contracts/record.js';

export type BatchFormat = 'json' | 'ndjson' | 'cbor';

export const batchContentType: Record<BatchFormat, string> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  cbor: 'application/cbor',
};

/** In CBOR the payload travels as bytes (or as the JSON value), not base64. */
function cborEnvelope(gatewayId: string, r: StoredRecord): Record<string, unknown> {
  const env: RecordEnvelope = toEnvelope(gatewayId, r);
  const { payloadBase64: _b64, ...rest } = env;
  return env.payload !== undefined ? rest : { ...rest, id: recordId(gatewayId, r.seq), payload: r.payload };
}

export function encodeBatch(format: BatchFormat, gatewayId: string, records: StoredRecord[]): Buffer {
  switch (format) {
    case 'json':
      return Buffer.from(JSON.stringify(records.map((r) => toEnvelope(gatewayId, r))));
    case 'ndjson':
      return Buffer.from(`${records.map((r) => JSON.stringify(toEnvelope(gatewayId, r))).join('\n')}\n`);
    case 'cbor':
      return Buffer.from(cborEncode(records.map((r) => cborEnvelope(gatewayId, r))));
  }
}

/** `{topic}`, `{deviceId}`, `{gatewayId}`, `{route}`, `{sink}` in a template. */
export function fillTemplate(template: string, r: StoredRecord, gatewayId: string): string {
  return template.replace(/\{(topic|deviceId|gatewayId|route|sink)\}/g, (_m, k: string) => {
    switch (k) {
      case 'topic':
        return r.topic;
      case 'deviceId':
        return r.deviceId;
      case 'gatewayId':
        return gatewayId;
      case 'route':
        return r.route;
      default:
        return r.sink;
    }
  });
}
