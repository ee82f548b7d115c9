/** Command-line flags -> the fleet schema's fields (kebab-case flags, typed values). */
import type { ParseArgsConfig } from 'node:util';

type Kind = 'int' | 'num' | 'str' | 'bool';

/** flag name -> [schema field, kind] */
const fleetFlags: Record<string, [string, Kind]> = {
  url: ['url', 'str'],
  devices: ['devices', 'int'],
  'id-prefix': ['idPrefix', 'str'],
  username: ['username', 'str'],
  password: ['password', 'str'],
  profile: ['profile', 'str'],
  rate: ['rate', 'num'],
  'total-rate': ['totalRate', 'num'],
  jitter: ['jitter', 'num'],
  qos: ['qos', 'int'],
  encoding: ['encoding', 'str'],
  'payload-size': ['payloadSize', 'int'],
  topic: ['topic', 'str'],
  duration: ['duration', 'str'],
  count: ['count', 'int'],
  'ramp-up': ['rampUp', 'str'],
  churn: ['churn', 'str'],
  'buffer-offline': ['bufferOffline', 'bool'],
  'buffer-max': ['bufferMax', 'int'],
  'ack-wait': ['ackWait', 'str'],
  seed: ['seed', 'int'],
  run: ['run', 'str'],
};

export const fleetOptions: ParseArgsConfig['options'] = Object.fromEntries(
  Object.entries(fleetFlags).map(([flag, [, kind]]) => [
    flag,
    { type: kind === 'bool' ? 'boolean' : 'string' },
  ]),
);

export function fleetInputFromFlags(
  values: Record<string, string | boolean | undefined>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, [field, kind]] of Object.entries(fleetFlags)) {
    const v = values[flag];
    if (v === undefined) continue;
    if (kind === 'int' || kind === 'num') {
      const n = Number(v);
      if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n))) {
        throw new Error(`--${flag}: expected ${kind === 'int' ? 'an integer' : 'a number'} (got "${v}")`);
      }
      out[field] = n;
    } else out[field] = v;
  }
  return out;
}

export const fleetUsage = `Device options (also the devices: block of a scenario file):
  --url mqtt://127.0.0.1:1883   broker to connect to (the gateway)
  --devices N                   number of devices (10)
  --id-prefix sim               device ids <prefix>-00000 ...; also the MQTT client ids
  --username U --password P     credentials; {device} in the username is the device id
  --profile NAME|FILE           environmental, vibration, gps, or a custom .yaml/.json profile
  --rate R | --total-rate R     messages/s per device (1) or over all devices
  --jitter 0.1                  random spread of each interval
  --qos 0|1|2 (1)  --encoding json|cbor (json)  --payload-size BYTES (pad to this size)
  --topic PATTERN               devices/{device}/telemetry ({device}, {profile}, {index})
  --duration 10s | --count N    how long, or how many messages per device
  --ramp-up 5s                  spread the connects over this time
  --churn 30s                   drop and re-open each connection about this often
  --buffer-offline              keep readings while offline, send them on reconnect (--buffer-max N)
  --ack-wait 15s                after the last publish, wait this long for acks
  --seed N  --run ID`;
