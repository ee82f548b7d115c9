/** Reads everything from Kafka topics from the beginning (a real consumer, for assertions). */
import { Consumer, MessagesStreamModes, stringDeserializer } from '@platformatic/kafka';

export interface Consumed {
  topic: string;
  partition: number;
  offset: bigint;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export async function consumeAll(
  bootstrap: string,
  topics: string[],
  want: number,
  timeoutMs = 20_000,
): Promise<Consumed[]> {
  const consumer = new Consumer<string, Buffer, string, string>({
    groupId: `check-${Math.random().toString(36).slice(2)}`,
    clientId: 'test-consumer',
    bootstrapBrokers: [bootstrap],
    maxWaitTime: 200,
    deserializers: {
      key: stringDeserializer,
      headerKey: stringDeserializer,
      headerValue: stringDeserializer,
    },
  });
  const out: Consumed[] = [];
  const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST });
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      stream.on('data', (m) => {
        out.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: Object.fromEntries(m.headers ?? new Map()),
        });
        if (out.length >= want) {
          clearTimeout(timer);
          // a short grace period shows duplicates beyond `want`
          setTimeout(resolve, 300);
        }
      });
    });
  } finally {
    await stream.close();
    await consumer.close(true);
  }
  return out;
}
