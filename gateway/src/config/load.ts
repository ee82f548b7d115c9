/**
 * Loading: YAML text -> ${ENV} interpolation -> schema validation -> cross checks.
 * Every problem is reported with its path; nothing stops at the first error.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`,
    );
    this.name = 'ConfigError';
  }
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in every string of the tree; unknown variables are problems. */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: string[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_all, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined) return v;
      if (fallback !== undefined) return fallback;
      problems.push(`${pathText(path)}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, problems, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, problems, [...path, k]);
    return out;
  }
  return value;
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text === undefined ? String(input) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function formatIssue(issue: z.core.$ZodIssue): string {
  const where = pathText(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      return `${where}: expected ${issue.expected}, got ${describeInput(issue.input)}`;
    case 'unrecognized_keys':
      return issue.keys
        .map((k) => `${where === '(top level)' ? k : `${where}.${k}`}: unknown key`)
        .join('\n  ');
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) {
        const options = 'options' in issue ? (issue.options as unknown[]) : [];
        const input = issue.input as Record<string, unknown> | undefined;
        const value = input && typeof input === 'object' ? input[String(issue.discriminator)] : issue.input;
        return `${where}: unknown value ${describeInput(value)}, expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
      }
      return `${where}: ${issue.message}`;
    case 'invalid_value':
      return `${where}: got ${describeInput(issue.input)}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Checks that need the whole config: references between sections. */
function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  for (const [name, route] of Object.entries(config.routes)) {
    if (!(route.to in config.sinks)) {
      problems.push(
        `routes.${name}.to: no sink named "${route.to}" (sinks: ${Object.keys(config.sinks).join(', ') || 'none'})`,
      );
    }
  }
  return problems;
}

export type Extension = (config: Config, raw: unknown) => string[];
const extensions: Extension[] = [];
/** Lets later stages (routes, auth) add their own whole-config checks without a cycle. */
export function addConfigCheck(check: Extension): void {
  extensions.push(check);
}

export function parseConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const interpolated = interpolate(raw ?? {}, env, problems);
  const result = configSchema.safeParse(interpolated, { reportInput: true });
  if (!result.success) {
    problems.push(...result.error.issues.map(formatIssue));
    throw new ConfigError(source, problems);
  }
  problems.push(...crossCheck(result.data));
  for (const check of extensions) problems.push(...check(result.data, interpolated));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

/** YAML text -> plain data, with every syntax error and its line (shared with the bridge's config). */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map(
        (e) => `YAML ${e.code} at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
      ),
    );
  }
  return doc.toJS();
}

/** Reads and parses a YAML file; an unreadable file is a ConfigError naming the reason. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    ]);
  }
  return parseYamlText(text, file);
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(parseYamlText(text, source), source, env);
}

/** Loads FILE, or the built-in default when no file is given. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  if (file === undefined) return parseConfig({}, 'built-in default', env);
  return parseConfig(readYamlFile(file), file, env);
}
