/**
 * MQTT 3.1.1 keep-alive (3.1.2.10) as a device lives it: PINGREQs within the
 * keep-alive keep the connection, silence past 1.5 x keep-alive ends it, and that
 * end is abnormal, so the will goes out. (connect.test.ts times the close itself.)
 * Against tidegate and Mosquitto (127.0.0.1:1883) as the reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { brokersUnderTest, Peers, topicRoot } from './peer.js';

const brokers = brokersUnderTest();

describe.each(brokers)('%s: keep-alive', (name, port) => {
  const peers = new Peers(port);
  afterAll(() => peers.closeAll());

  it('[MQTT-3.1.2-23] [MQTT-3.12.4-1] PINGREQs keep a keep-alive-1 s connection open; [MQTT-3.1.2-24] [MQTT-3.1.2-8] silence then closes it and publishes the will', async () => {
    const root = topicRoot();
    const watcher = await peers.connect();
    await watcher.subscribe(`${root}/will`, 0);
    const device = await peers.connect({
      keepalive: 1,
      will: { topic: `${root}/will`, payload: Buffer.from('timed out'), qos: 0, retain: false },
    });
    // 2.5 s of PINGREQs every 0.5 s: past 1.5 x keep-alive, which traffic must keep resetting
    for (let i = 0; i < 5; i++) {
      device.send({ cmd: 'pingreq' });
      expect(await device.next('pingresp')).not.toBeNull();
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(device.closed).toBe(false);
    expect(watcher.takePublishes(root)).toEqual([]);
    // tidegate closes 1.5 s after the last packet, as [MQTT-3.1.2-24] says; Mosquitto 2.0.11
    // checks on a coarse timer (5.8 s measured here, see connect.test.ts): late, so allow it
    expect(await device.waitClosed(name === 'tidegate' ? 2500 : 9000)).toBe(true);
    expect(String((await watcher.publishOn(`${root}/will`))?.payload)).toBe('timed out');
  });
});
