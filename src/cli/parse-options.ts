import { UsageError } from './usage-error.js';

/**
 * Pure parsers for the option values commander hands over as strings. Each throws UsageError
 * (exit code 2) with the offending text, so a typo never starts a server.
 */

/** Splits "KEY=VALUE" at the first "="; the key must look like "<node id or title>.<input>". */
export function splitAssignment(text: string, option: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is not KEY=VALUE.`, `Write it as ${option} "KSampler.seed=42" (node id or title, a dot, the input name).`);
  }
  const key = text.slice(0, at).trim();
  const dot = key.lastIndexOf('.');
  if (dot <= 0 || dot === key.length - 1) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: the key ${JSON.stringify(key)} is not "<node id or title>.<input>".`, `For example ${option} "KSampler.seed=42" or ${option} "6.text=a cat".`);
  }
  return [key, text.slice(at + 1)];
}

/** A --set value: JSON when it parses (42, true, [1,2], {"a":1}, "quoted"), otherwise the text itself. */
export function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Repeated --set KEY=VALUE into the overrides object the facade takes; a later key wins. */
export function parseOverrides(values: readonly string[]): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const text of values) {
    const [key, value] = splitAssignment(text, '--set');
    overrides[key] = parseSetValue(value);
  }
  return overrides;
}

/** Repeated --input KEY=FILE into the facade's `inputs` (paths, uploaded ephemeral per run). */
export function parseInputs(values: readonly string[]): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const text of values) {
    const [key, file] = splitAssignment(text, '--input');
    if (!file) throw new UsageError(`--input ${JSON.stringify(text)} names no file.`, 'Write it as --input "LoadImage.image=./cat.png".');
    inputs[key] = file;
  }
  return inputs;
}

/** Repeated --header "Name: value" into a headers object. */
export function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const text of values) {
    const at = text.indexOf(':');
    const name = at > 0 ? text.slice(0, at).trim() : '';
    if (!name || /\s/.test(name)) {
      throw new UsageError(`--header ${JSON.stringify(text)} is not "Name: value".`, 'For example --header "Authorization: Bearer TOKEN".');
    }
    headers[name] = text.slice(at + 1).trim();
  }
  return headers;
}

/** A positive number of seconds into milliseconds. */
export function parseSeconds(text: string, option: string): number {
  const seconds = Number(text);
  if (!text.trim() || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is not a positive number of seconds.`);
  }
  return Math.round(seconds * 1000);
}

/** A whole number >= 1 (for --repeat). */
export function parseCount(text: string, option: string): number {
  const count = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(count) || count < 1) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is not a whole number of at least 1.`);
  }
  return count;
}

/** A TCP port, 1..65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`--port ${JSON.stringify(text)} is not a port number (1-65535).`);
  }
  return port;
}

/**
 * COMFY_CONNECTOR_COMMAND: a JSON array of strings that replaces `[python, main.py]`.
 * For tests, which start the stand-in ComfyUI this way; not meant for users.
 */
export function parseCommandEnv(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((part) => typeof part === 'string')) {
    throw new UsageError(`COMFY_CONNECTOR_COMMAND must be a JSON array of strings, got ${JSON.stringify(text)}.`, 'For example COMFY_CONNECTOR_COMMAND=\'["node","--import","tsx","test/standin/main.ts"]\'.');
  }
  return parsed as string[];
}

/** commander's collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
