/**
 * The two value rewrites the frontend applies while serialising widgets:
 * dynamic prompts (`{a|b}`, Comfy.DynamicPrompts) and filename replacement (`%date:…%`,
 * `%Node.widget%`, Comfy.SaveImageExtraOutput). Ported from frontend 1.48 (formatUtil, utils).
 */

/** `{a|b|c}` → one choice per block (nested, `\{ \| \}` escapes); C-style comments stripped first. */
export function processDynamicPrompt(text: string, random: () => number = Math.random): string {
  // Same regex as the frontend: it also eats everything after `//` (e.g. in "http://…").
  const source = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*/g, '');
  let i = 0;
  const escape = (): string => `\\${source[i++] ?? ''}`;
  const choiceBlock = (): string => {
    const options: string[] = [];
    let current = '';
    let depth = 0;
    while (i < source.length) {
      const c = source[i++] as string;
      if (c === '\\') {
        current += escape();
        continue;
      } else if (c === '{') depth++;
      else if (c === '}') {
        if (!depth) break;
        depth--;
      } else if (c === '|' && !depth) {
        options.push(current);
        current = '';
        continue;
      }
      current += c;
    }
    options.push(current);
    const picked = options[Math.floor(random() * options.length)] ?? '';
    return processDynamicPrompt(picked, random);
  };
  let out = '';
  while (i < source.length) {
    const c = source[i++] as string;
    if (c === '\\') out += escape();
    else if (c === '{') out += choiceBlock();
    else out += c;
  }
  return out.replace(/\\([{}|])/g, '$1');
}

const DATE_PARTS: Record<string, (d: Date) => number> = {
  d: (d) => d.getDate(),
  M: (d) => d.getMonth() + 1,
  h: (d) => d.getHours(),
  m: (d) => d.getMinutes(),
  s: (d) => d.getSeconds(),
};
const DATE_TOKENS = new RegExp(`${Object.keys(DATE_PARTS).map((k) => `${k}${k}?`).join('|')}|yyy?y?`, 'g');

/** The frontend's formatDate: tokens yyyy yy M MM d dd h hh m mm s ss, local time. */
export function formatDate(format: string, date: Date): string {
  return format.replace(DATE_TOKENS, (token) => {
    if (token === 'yy') return String(date.getFullYear()).substring(2);
    if (token === 'yyyy') return String(date.getFullYear());
    const part = DATE_PARTS[token[0] as string];
    return part ? String(part(date)).padStart(token.length, '0') : token;
  });
}

/** A node as text replacement sees it: its S&R name, title and current widget values. */
export interface ReplacementNode {
  searchName: string | undefined;
  title: string;
  widgetValue(name: string): { found: boolean; value: unknown };
}

/**
 * `%date:FMT%` and `%NodeName.widget%` in a filename prefix. The node is matched by its
 * "Node name for S&R" property, else by title, first match; the value's path-unsafe characters
 * become `_`. Anything else (`%width%`, unknown nodes) is left as written.
 */
export function applyTextReplacements(text: string, nodes: readonly ReplacementNode[], now: () => Date): string {
  return text.replace(/%([^%]+)%/g, (match, body: string) => {
    const parts = body.split('.');
    if (parts.length !== 2) {
      const head = parts[0] as string;
      return head.startsWith('date:') ? formatDate(head.substring(5), now()) : match;
    }
    const [nodeName, widgetName] = parts as [string, string];
    let candidates = nodes.filter((n) => n.searchName === nodeName);
    if (!candidates.length) candidates = nodes.filter((n) => n.title === nodeName);
    const node = candidates[0];
    if (!node) return match;
    const widget = node.widgetValue(widgetName);
    if (!widget.found) return match;
    // eslint-disable-next-line no-control-regex
    return String(widget.value ?? '').replaceAll(/[/?<>\\:*|"\x00-\x1F\x7F]/g, '_');
  });
}
