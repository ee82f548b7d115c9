/**
 * The QoS a message goes out at to an online client. aedes 1.2 gets two cases wrong
 * (found by test/conformance/subscribe.test.ts; Mosquitto gets both right):
 * - [MQTT-3.8.4-6] the minimum of the published QoS and the granted QoS: aedes lowers
 *   it only when the filter equals the topic name, so a QoS 1 subscription to `a/+`
 *   received QoS 2 messages at QoS 2.
 * - [MQTT-3.3.5-1] with overlapping subscriptions, the maximum QoS of all the matching
 *   ones: aedes sends one copy through whichever subscription's handler runs first,
 *   so `a/#` at QoS 0 next to `a/+` at QoS 2 made a QoS 2 message arrive at QoS 0.
 * Every subscription handler of a client ends in `client.deliver0` or
 * `client.deliverQoS` (read when the SUBSCRIBE is handled, and by the retained-message
 * replay), so both are wrapped to decide the QoS from all the client's subscriptions.
 */
import { topicMatches } from './topics.js';

type Deliver = (packet: { topic: string; qos: number }, cb: (err?: unknown) => void) => void;

interface DeliveringClient {
  subscriptions: Record<string, { qos: number }>;
  deliver0: Deliver;
  deliverQoS: Deliver;
}

/** The highest QoS granted to a subscription of `subs` that matches `topic`; -1 when none does. */
export function grantedQos(subs: Record<string, { qos: number }>, topic: string): number {
  let max = -1;
  for (const filter in subs)
    if (subs[filter]!.qos > max && topicMatches(filter, topic)) max = subs[filter]!.qos;
  return max;
}

export function deliverAtGrantedQos(client: DeliveringClient): void {
  const { deliver0, deliverQoS } = client;
  const wrap =
    (own: Deliver): Deliver =>
    (packet, cb) => {
      const granted = grantedQos(client.subscriptions, packet.topic);
      // none: unsubscribed while the message was on its way; the handler aedes chose decides
      if (granted < 0) return own(packet, cb);
      const qos = Math.min(packet.qos, granted);
      if (qos === 0) return deliver0(packet, cb);
      // aedes hands each handler its own copy of the packet, so setting the QoS is local
      packet.qos = qos;
      deliverQoS(packet, cb);
    };
  client.deliver0 = wrap(deliver0);
  client.deliverQoS = wrap(deliverQoS);
}
