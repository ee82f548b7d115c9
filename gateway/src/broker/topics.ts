/**
 * Plain MQTT 3.1.1 topic names and filters (section 4.7), for the ACL and the
 * retained-message lookup. `+` matches one level, `#` the rest including the
 * parent level [MQTT-4.7.1-2]; a filter that starts with a wildcard does not
 * match a topic that starts with `$` [MQTT-4.7.2-1].
 */

/** Whether `topic` (a topic name, no wildcards) matches `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if ((f[0] === '+' || f[0] === '#') && topic.startsWith('$')) return false;
  for (let i = 0; i < f.length; i++) {
    const l = f[i]!;
    if (l === '#') return true;
    if (i >= t.length) return false;
    if (l !== '+' && l !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether every topic that `filter` can match is also matched by `pattern`:
 * a subscription to `filter` then receives nothing that `pattern` forbids.
 */
export function filterCovered(pattern: string, filter: string): boolean {
  const p = pattern.split('/');
  const f = filter.split('/');
  if ((p[0] === '+' || p[0] === '#') && filter.startsWith('$')) return false;
  // a filter that starts with a wildcard never reaches $ topics, so the pattern need not allow them
  for (let i = 0; i < p.length; i++) {
    const pl = p[i]!;
    if (pl === '#') return true;
    if (i >= f.length) return false;
    const fl = f[i]!;
    if (fl === '#') return false;
    if (pl === '+') continue;
    if (fl === '+' || fl !== pl) return false;
  }
  return f.length === p.length;
}

export function topicLevels(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) n++;
  return n;
}

/**
 * The literal levels of a filter before its first wildcard, without the trailing
 * separator ('a/#' also matches 'a'); every matching topic starts with it.
 */
export function literalPrefix(filter: string): string {
  const out: string[] = [];
  for (const l of filter.split('/')) {
    if (l === '+' || l === '#') return out.join('/');
    out.push(l);
  }
  return filter;
}
