/**
 * MQTT topic filters with optional named wildcards: `devices/+deviceId/telemetry/#rest`.
 * Matching follows MQTT 3.1.1 section 4.7: `+` matches one level, `#` the rest
 * (including the parent level, [MQTT-4.7.1-2]), and filters starting with a
 * wildcard do not match topics starting with `$` ([MQTT-4.7.2-1]).
 */

export interface TopicFilter {
  readonly text: string;
  match(topic: string): Record<string, string> | null;
}

export function validateFilter(text: string): string | null {
  if (text.length === 0) return 'empty topic filter';
  const levels = text.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.startsWith('#') && i !== levels.length - 1) return `"#" must be the last level in "${text}"`;
    if ((l.includes('+') && !l.startsWith('+')) || (l.includes('#') && !l.startsWith('#'))) {
      return `a wildcard must fill a whole level in "${text}"`;
    }
    if (l.length > 1 && (l.startsWith('+') || l.startsWith('#')) && !/^[+#][A-Za-z_][A-Za-z0-9_]*$/.test(l)) {
      return `a wildcard name must be an identifier in "${text}"`;
    }
  }
  return null;
}

export function compileFilter(text: string): TopicFilter {
  const problem = validateFilter(text);
  if (problem) throw new Error(problem);
  const levels = text.split('/');
  const startsWild = levels[0]!.startsWith('+') || levels[0]!.startsWith('#');
  return {
    text,
    match(topic: string): Record<string, string> | null {
      if (startsWild && topic.startsWith('$')) return null;
      const parts = topic.split('/');
      const params: Record<string, string> = {};
      for (let i = 0; i < levels.length; i++) {
        const l = levels[i]!;
        if (l[0] === '#') {
          if (l.length > 1) params[l.slice(1)] = parts.slice(i).join('/');
          return params;
        }
        if (i >= parts.length) return null;
        if (l[0] === '+') {
          if (l.length > 1) params[l.slice(1)] = parts[i]!;
        } else if (l !== parts[i]) {
          return null;
        }
      }
      return parts.length === levels.length ? params : null;
    },
  };
}

/** The plain MQTT form of a filter (names removed), for subscriptions upstream. */
export function plainFilter(text: string): string {
  return text
    .split('/')
    .map((l) => (l[0] === '+' ? '+' : l[0] === '#' ? '#' : l))
    .join('/');
}
