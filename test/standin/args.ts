// ComfyUI's command line, parsed the way argparse would: same options, same exit code 2 and
// "main.py: error: ..." message for anything it would reject.
import { statSync } from 'node:fs';
import { COMFY_FLAGS, type FlagSpec } from './comfy-flags.js';

export type ArgValue = string | boolean | string[] | string[][] | null;
export type ParsedArgs = Record<string, ArgValue>;

export class ArgError extends Error {}

const USAGE =
  'usage: main.py [-h] [--listen [IP]] [--port PORT] [--tls-keyfile TLS_KEYFILE]\n' +
  '               [--tls-certfile TLS_CERTFILE] [--enable-cors-header [ORIGIN]]\n' +
  '               [--max-upload-size MAX_UPLOAD_SIZE]\n' +
  '               [--base-directory BASE_DIRECTORY]\n' +
  '               [--extra-model-paths-config PATH [PATH ...]]\n' +
  '               [--output-directory OUTPUT_DIRECTORY]\n' +
  '               [--temp-directory TEMP_DIRECTORY]\n' +
  '               [--input-directory INPUT_DIRECTORY] ...\n';

const byName = new Map<string, FlagSpec>();
for (const spec of COMFY_FLAGS) for (const n of spec.names) byName.set(n, spec);

function looksLikeOption(token: string): boolean {
  // argparse treats "-5" style negative numbers as values when no option looks like a number.
  return token.startsWith('-') && token.length > 1 && !/^-\d/.test(token);
}

function checkValue(spec: FlagSpec, value: string): string {
  const name = spec.names[0];
  if (spec.type === 'int' && !/^[-+]?\d+$/.test(value.trim())) throw new ArgError(`argument ${name}: invalid int value: '${value}'`);
  if (spec.type === 'float' && Number.isNaN(Number(value))) throw new ArgError(`argument ${name}: invalid float value: '${value}'`);
  if (spec.choices && !spec.choices.includes(value)) {
    throw new ArgError(`argument ${name}: invalid choice: '${value}' (choose from ${spec.choices.map((c) => `'${c}'`).join(', ')})`);
  }
  if (spec.type === 'dir') {
    let st;
    try { st = statSync(value); } catch { throw new ArgError(`argument ${name}: The path '${value}' does not exist.`); }
    if (!st.isDirectory()) throw new ArgError(`argument ${name}: '${value}' is not a directory.`);
  }
  return value;
}

/** Parses argv (without node and script). Throws ArgError with argparse's message text. */
export function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = {};
  const extras: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let token = argv[i]!;
    let inline: string | undefined;
    if (token.startsWith('--') && token.includes('=')) {
      inline = token.slice(token.indexOf('=') + 1);
      token = token.slice(0, token.indexOf('='));
    }
    const spec = byName.get(token);
    if (!spec) {
      extras.push(argv[i]!);
      continue;
    }
    const takeValues = (): string[] => {
      const vals: string[] = [];
      while (i + 1 < argv.length && !looksLikeOption(argv[i + 1]!)) vals.push(argv[++i]!);
      return vals;
    };
    switch (spec.kind) {
      case 'flag':
        if (inline !== undefined) throw new ArgError(`argument ${token}: ignored explicit argument '${inline}'`);
        out[spec.dest] = true;
        break;
      case 'one': {
        let v = inline;
        if (v === undefined) {
          if (i + 1 >= argv.length || looksLikeOption(argv[i + 1]!)) throw new ArgError(`argument ${spec.names[0]}: expected one argument`);
          v = argv[++i]!;
        }
        v = checkValue(spec, v);
        if (spec.append) out[spec.dest] = [...((out[spec.dest] as string[] | undefined) ?? []), v];
        else out[spec.dest] = v;
        break;
      }
      case 'optional': {
        let v = inline;
        if (v === undefined && i + 1 < argv.length && !looksLikeOption(argv[i + 1]!)) v = argv[++i]!;
        out[spec.dest] = v === undefined ? null : checkValue(spec, v);
        break;
      }
      case 'many': {
        const vals = inline !== undefined ? [inline] : takeValues();
        if (spec.atLeastOne && vals.length === 0) throw new ArgError(`argument ${spec.names[0]}: expected at least one argument`);
        vals.forEach((v) => checkValue(spec, v));
        if (spec.append) out[spec.dest] = [...((out[spec.dest] as string[][] | undefined) ?? []), vals];
        else out[spec.dest] = vals;
        break;
      }
    }
  }
  if (extras.length > 0) throw new ArgError(`unrecognized arguments: ${extras.join(' ')}`);
  return out;
}

/** Prints argparse's usage + error lines and exits 2, as `main.py` does. */
export function exitWithArgError(err: ArgError): never {
  process.stderr.write(`${USAGE}main.py: error: ${err.message}\n`);
  process.exit(2);
}

export function str(args: ParsedArgs, key: string): string | undefined {
  const v = args[key];
  return typeof v === 'string' ? v : undefined;
}
