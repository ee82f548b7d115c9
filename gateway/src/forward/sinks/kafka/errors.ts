/**
 * @platformatic/kafka wraps errors (MultipleErrors -> NetworkError -> cause
 * AuthenticationError -> ProtocolError ...). The retry decision and the
 * operator's message need the innermost meaningful one, so walk the tree.
 */
interface KafkaErrorLike {
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  apiId?: string;
  serverErrorMessage?: string;
}

function* walk(err: unknown, depth = 0): Generator<KafkaErrorLike> {
  if (!err || typeof err !== 'object' || depth > 8) return;
  const e = err as KafkaErrorLike;
  yield e;
  for (const child of e.errors ?? []) yield* walk(child, depth + 1);
  if (e.cause) yield* walk(e.cause, depth + 1);
}

export function describeKafkaError(err: unknown): { message: string; code: string; retriable: boolean } {
  const all = [...walk(err)];
  const auth = all.find((e) => e.code === 'PLT_KFK_AUTHENTICATION');
  if (auth) {
    const detail = all.find((e) => e.serverErrorMessage)?.serverErrorMessage;
    // wrong credentials do not heal by themselves, but the operator may fix them upstream: keep retrying, loudly
    return {
      message: `SASL authentication failed${detail ? `: ${detail}` : ''}`,
      code: 'KAFKA_AUTH',
      retriable: true,
    };
  }
  const api = all.find((e) => e.apiId && e.apiId !== 'NONE');
  const unknownTopic = all.find((e) => /^Unknown topic/i.test(e.message ?? ''));
  if (unknownTopic || api?.apiId === 'UNKNOWN_TOPIC_OR_PARTITION') {
    const which = unknownTopic?.message?.replace(/^Unknown topic\s*/i, '').replace(/\.$/, '');
    return {
      message: `topic ${which ? `${which} ` : ''}does not exist (create it, or set autocreateTopics: true)`,
      code: 'KAFKA_UNKNOWN_TOPIC',
      retriable: true,
    };
  }
  if (api?.apiId === 'MESSAGE_TOO_LARGE' || api?.apiId === 'RECORD_LIST_TOO_LARGE') {
    return {
      message: `broker refused the batch as too large (${api.apiId})`,
      code: 'KAFKA_TOO_LARGE',
      retriable: false,
    };
  }
  if (api?.apiId === 'TOPIC_AUTHORIZATION_FAILED') {
    return { message: 'not authorized to write to the topic', code: 'KAFKA_TOPIC_AUTH', retriable: true };
  }
  const network = all.find((e) => e.code === 'PLT_KFK_NETWORK');
  const leaf = all.at(-1);
  if (network) {
    const sys = all.find((e) => typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code));
    return {
      message: `${network.message ?? 'network error'}${sys ? ` (${sys.code})` : ''}`,
      code: 'KAFKA_NETWORK',
      retriable: true,
    };
  }
  const msg = [...new Set(all.map((e) => e.message).filter(Boolean))].slice(0, 3).join(': ');
  return {
    message: msg || String(err),
    code: leaf?.code ?? (all[0]?.code as string | undefined) ?? 'KAFKA_ERROR',
    retriable: true,
  };
}
