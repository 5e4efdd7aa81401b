// The frontend's user routes in single-user mode: users, settings, userdata (v1 and v2).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isInside } from './paths.js';
import type { Reply, Req } from './http-routes.js';

export class UserData {
  constructor(private readonly userDir: string) {}
  private get root(): string { return join(this.userDir, 'default'); }
  private settingsFile(): string { return join(this.root, 'comfy.settings.json'); }

  settings(): Record<string, unknown> {
    try { return JSON.parse(readFileSync(this.settingsFile(), 'utf8')) as Record<string, unknown>; } catch { return {}; }
  }
  private saveSettings(s: Record<string, unknown>): void {
    mkdirSync(this.root, { recursive: true });
    writeFileSync(this.settingsFile(), JSON.stringify(s, null, 4));
  }

  /** Answers a user route, or undefined when the path is not one. */
  handle(req: Req, path: string): Reply | undefined {
    const { method } = req;
    if (path === '/users' && method === 'GET') return { json: { storage: 'server', migrated: true } };
    if (path === '/settings') {
      if (method === 'GET') return { json: this.settings() };
      if (method === 'POST') { this.saveSettings({ ...this.settings(), ...(req.json() as object) }); return { status: 200, text: '' }; }
    }
    const setting = /^\/settings\/([^/]+)$/.exec(path);
    if (setting) {
      const id = decodeURIComponent(setting[1]!);
      if (method === 'GET') return { json: this.settings()[id] ?? null };
      if (method === 'POST') { this.saveSettings({ ...this.settings(), [id]: req.json() }); return { status: 200, text: '' }; }
    }
    if (path === '/userdata' && method === 'GET') return this.list(req.query);
    if (path === '/v2/userdata' && method === 'GET') return this.listV2(req.query.get('path') ?? '');
    const move = /^\/userdata\/([^/]+)\/move\/([^/]+)$/.exec(path);
    if (move && method === 'POST') {
      const src = this.resolveFile(decodeURIComponent(move[1]!)), dst = this.resolveFile(decodeURIComponent(move[2]!));
      if (!src || !dst) return { status: 403, text: '' };
      if (!existsSync(src)) return { status: 404, text: '' };
      if (existsSync(dst) && req.query.get('overwrite') === 'false') return { status: 409, text: '' };
      mkdirSync(dirname(dst), { recursive: true });
      renameSync(src, dst);
      return { json: relative(this.root, dst) };
    }
    const file = /^\/userdata\/([^/]+)$/.exec(path);
    if (file) {
      const target = this.resolveFile(decodeURIComponent(file[1]!));
      if (!target) return { status: 403, text: '' };
      if (method === 'GET') {
        if (!existsSync(target) || !statSync(target).isFile()) return { status: 404, text: '' };
        return { body: readFileSync(target), contentType: target.endsWith('.json') ? 'application/json' : 'application/octet-stream' };
      }
      if (method === 'POST') {
        const overwrite = req.query.get('overwrite') !== 'false';
        if (existsSync(target) && !overwrite) return { status: 409, text: 'File already exists' };
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, req.body);
        const rel = relative(this.root, target);
        if (req.query.get('full_info') === 'true') {
          const st = statSync(target);
          return { json: { path: rel, size: st.size, modified: st.mtimeMs / 1000, created: st.ctimeMs / 1000 } };
        }
        return { json: rel };
      }
      if (method === 'DELETE') {
        if (!existsSync(target)) return { status: 404, text: '' };
        rmSync(target);
        return { status: 204, text: '' };
      }
    }
    return undefined;
  }

  private resolveFile(rel: string): string | undefined {
    const target = resolve(this.root, rel);
    return isInside(this.root, target) && target !== resolve(this.root) ? target : undefined;
  }

  private list(q: URLSearchParams): Reply {
    const dir = q.get('dir') ?? '';
    const base = resolve(this.root, dir);
    if (!isInside(this.root, base)) return { status: 403, text: '' };
    if (!existsSync(base)) return { status: 404, text: 'Directory not found' };
    const recurse = q.get('recurse') === 'true', full = q.get('full_info') === 'true', split = q.get('split') === 'true';
    const out: unknown[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const st = statSync(p);
        if (st.isDirectory()) { if (recurse) walk(p); continue; }
        const rel = relative(base, p);
        if (full) out.push({ path: rel, size: st.size, modified: st.mtimeMs / 1000, created: st.ctimeMs / 1000 });
        else if (split) out.push([rel, ...rel.split('/')]);
        else out.push(rel);
      }
    };
    walk(base);
    return { json: out };
  }

  private listV2(path: string): Reply {
    const base = resolve(this.root, path);
    if (!isInside(this.root, base)) return { status: 403, text: '' };
    if (!existsSync(base)) return path === '' ? { json: [] } : { status: 404, text: 'Requested path not found' };
    return {
      json: readdirSync(base).sort().map((name) => {
        const st = statSync(join(base, name));
        const rel = relative(this.root, join(base, name));
        return st.isDirectory() ? { name, path: rel, type: 'directory' } : { name, path: rel, type: 'file', size: st.size, modified: st.mtimeMs / 1000 };
      }),
    };
  }
}
