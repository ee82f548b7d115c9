/**
 * Topic access control in Mosquitto's acl_file syntax, one rule per line:
 *
 *   topic [read|write|readwrite|deny] <filter>    general rule (before any user/client line:
 *                                                 anonymous clients only, as in Mosquitto)
 *   user <name>                                   following topic lines apply to this user
 *   client <id>                                   following topic lines apply to this client id
 *                                                 (our addition; Mosquitto has only %c patterns)
 *   pattern [read|write|readwrite|deny] <filter>  every client; %c = client id, %u = user name
 *
 * `write` is PUBLISH, `read` is SUBSCRIBE (and delivery); no access word means readwrite.
 * A `deny` rule wins over any grant. No matching grant means refused.
 * A %c / %u value containing `/`, `+` or `#` never matches, so a client id cannot
 * widen its own rule (Mosquitto does the same).
 */
import { readFileSync } from 'node:fs';
import { filterCovered, topicMatches } from './topics.js';

type Access = 'read' | 'write' | 'readwrite' | 'deny';

interface Rule {
  kind: 'topic' | 'pattern';
  /** who a `topic` rule is for: anonymous clients, one user, or one client id */
  scope: { anonymous: true } | { user: string } | { client: string };
  access: Access;
  filter: string;
}

export interface Who {
  clientId: string;
  /** authenticated identity (user name or certificate CN); null when anonymous */
  user: string | null;
}

export class AclError extends Error {}

/** The rule a device gets when identities are configured and no ACL is: its own subtree. */
export const DEFAULT_DEVICE_RULES = ['pattern write devices/%c/#', 'pattern read devices/%c/commands/#'];

export class Acl {
  constructor(private readonly rules: Rule[]) {}

  static parse(lines: string[], source: string): Acl {
    const rules: Rule[] = [];
    let scope: Rule['scope'] = { anonymous: true };
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const fail = (why: string) => new AclError(`${source}:${i + 1}: ${why}: "${line}"`);
      const [word] = line.split(/\s+/, 1);
      const rest = line.slice(word!.length).trim();
      if (word === 'user' || word === 'client') {
        if (!rest) throw fail(`"${word}" needs a name`);
        scope = word === 'user' ? { user: rest } : { client: rest };
        return;
      }
      if (word !== 'topic' && word !== 'pattern') throw fail('expected topic, pattern, user or client');
      const m = /^(read|write|readwrite|deny)\s+(.+)$/.exec(rest);
      const access = (m?.[1] as Access | undefined) ?? 'readwrite';
      const filter = m ? m[2]!.trim() : rest;
      if (!filter) throw fail('missing topic filter');
      const levels = filter.split('/');
      const bad = levels.some(
        (l, j) =>
          (l.includes('#') && (l !== '#' || j !== levels.length - 1)) || (l.includes('+') && l !== '+'),
      );
      if (bad) throw fail('a wildcard must fill a whole level and # must be last');
      rules.push({ kind: word, scope: word === 'pattern' ? { anonymous: true } : scope, access, filter });
    });
    return new Acl(rules);
  }

  static load(file: string): string[] {
    try {
      return readFileSync(file, 'utf8').split('\n');
    } catch (err) {
      throw new AclError(`cannot read the ACL file ${file}: ${(err as Error).message}`);
    }
  }

  get size(): number {
    return this.rules.length;
  }

  /** The filters of the rules that apply to this client, with %c / %u substituted. */
  private applicable(who: Who): Array<{ access: Access; filter: string }> {
    const out: Array<{ access: Access; filter: string }> = [];
    for (const r of this.rules) {
      if (r.kind === 'topic') {
        const s = r.scope;
        const applies =
          'anonymous' in s
            ? who.user === null
            : 'user' in s
              ? s.user === who.user
              : s.client === who.clientId;
        if (applies) out.push({ access: r.access, filter: r.filter });
        continue;
      }
      const filter = substitute(r.filter, who);
      if (filter !== null) out.push({ access: r.access, filter });
    }
    return out;
  }

  /** May this client PUBLISH to `topic`? */
  canPublish(who: Who, topic: string): boolean {
    let granted = false;
    for (const r of this.applicable(who)) {
      if (!topicMatches(r.filter, topic)) continue;
      if (r.access === 'deny') return false;
      if (r.access !== 'read') granted = true;
    }
    return granted;
  }

  /**
   * May this client SUBSCRIBE to `filter`? Only when one read grant covers all of it
   * and no deny rule covers all of it. A deny rule that covers part of it is
   * enforced per message at delivery (canRead).
   */
  canSubscribe(who: Who, filter: string): boolean {
    let granted = false;
    for (const r of this.applicable(who)) {
      if (r.access === 'deny') {
        if (filterCovered(r.filter, filter)) return false;
      } else if (r.access !== 'write' && filterCovered(r.filter, filter)) granted = true;
    }
    return granted;
  }

  /** May a message on `topic` be delivered to this client? */
  canRead(who: Who, topic: string): boolean {
    let granted = false;
    for (const r of this.applicable(who)) {
      if (!topicMatches(r.filter, topic)) continue;
      if (r.access === 'deny') return false;
      if (r.access !== 'write') granted = true;
    }
    return granted;
  }
}

function substitute(filter: string, who: Who): string | null {
  let ok = true;
  const out = filter.replace(/%[cu]/g, (m) => {
    const v = m === '%c' ? who.clientId : who.user;
    if (v === null || v === '' || /[/+#]/.test(v)) ok = false;
    return v ?? '';
  });
  return ok ? out : null;
}
