/**
 * Which frontend's prompt native conversion reproduces. Users export from whatever frontend their
 * ComfyUI serves, and frontends differ in the prompt's `_meta`:
 *   - 1.48.7 (what ComfyUI v0.33.0 pins): `_meta` is `{title}`; untitled nodes are titled from
 *     the 1.48.7 en locale first (app.getNodeDefs: st("nodeDefs.<name>.display_name", server's));
 *     frontend-titles.ts lists where that differs from v0.33.0's display_name.
 *   - 1.58.1: graphToPrompt (src/utils/executionUtil.ts) adds the node's pack identity from its
 *     properties, each only when zNodePackMetadata accepts it: `cnr_id` (a registry id),
 *     `aux_id` ("user/repo", sent as the string) and
 *     `ver` (semver or a git hash, a leading "v" stripped, or "unknown"); untitled nodes are
 *     titled with the server's display_name first, the bundled locale only for classes the server
 *     leaves unnamed (resolveNodeDefText, src/i18n.ts), else the class name.
 * Inputs are the same in both (checked on the whole parity corpus). Versions between are given
 * the profile of the nearest verified version at or below them (1.58.0 and up: 1.58.1's).
 */
import { FRONTEND_LOCALE_TITLES } from './frontend-titles.js';
import { LOCALE_TITLES_1_58 } from './frontend-locale-1.58.js';

export const SUPPORTED_FRONTEND_VERSIONS = ['1.48.7', '1.58.1'] as const;
export const DEFAULT_FRONTEND_VERSION = '1.48.7';

export interface FrontendProfile {
  /** The verified version this profile reproduces. */
  version: (typeof SUPPORTED_FRONTEND_VERSIONS)[number];
  /** The title of an untitled node of this class, given the server's display_name ("" when none). */
  title(className: string, serverDisplayName: string): string;
  /** Whether `_meta` carries cnr_id / aux_id / ver from the node's properties. */
  packMeta: boolean;
  /** Which GroupNodeConfig legacy group nodes are unpacked with (group-node-config.ts). */
  groupNodes: '1.48' | '1.58';
}

const PROFILES: Record<FrontendProfile['version'], FrontendProfile> = {
  '1.48.7': {
    version: '1.48.7', packMeta: false, groupNodes: '1.48',
    title: (name, server) => FRONTEND_LOCALE_TITLES.get(name) ?? (server || name),
  },
  '1.58.1': {
    version: '1.58.1', packMeta: true, groupNodes: '1.58',
    title: (name, server) => server || (LOCALE_TITLES_1_58.get(name) ?? name),
  },
};

function parts(version: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The profile for a frontend version ("1.58.1", "v1.60.0"); unknown or unparsable: 1.48.7's. */
export function frontendProfile(version: string | undefined): FrontendProfile {
  const v = version ? parts(version) : undefined;
  if (!v) return PROFILES[DEFAULT_FRONTEND_VERSION];
  const [major, minor] = v as [number, number, number];
  return major > 1 || (major === 1 && minor >= 58) ? PROFILES['1.58.1'] : PROFILES['1.48.7'];
}

// zNodePackMetadata (platform/workflow/validation/schemas/workflowSchema.ts in 1.58.1).
const REPO_LIKE_ID = /^[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;
const GITHUB_USER = /^(?!-)(?!.*--)[a-zA-Z0-9-]+(?<!-)$/;
const GIT_HASH = /^[0-9a-f]{4,40}$/i;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([\da-z-]+(?:\.[\da-z-]+)*))?(?:\+([\da-z-]+(?:\.[\da-z-]+)*))?$/;

function repoLikeId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 100 && REPO_LIKE_ID.test(value) && !/^[_\-.]|[_\-.]$/.test(value);
}

/** `{cnr_id?, aux_id?, ver?}` as 1.58.1 adds them to `_meta`, in that key order. */
export function packMeta(properties: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!properties) return out;
  const { cnr_id: cnr, aux_id: aux, ver } = properties;
  if (repoLikeId(cnr)) out.cnr_id = cnr;
  if (typeof aux === 'string' && /^[^/]+\/[^/]+$/.test(aux)) {
    const [user, repo] = aux.split('/') as [string, string];
    // The schema's transform splits it for validation only: the browser oracle sends the string.
    if (user.length <= 39 && GITHUB_USER.test(user) && repoLikeId(repo)) out.aux_id = aux;
  }
  if (typeof ver === 'string') {
    const stripped = ver.replace(/^v/, '');
    if (SEMVER.test(stripped) || GIT_HASH.test(stripped)) out.ver = stripped;
    else if (ver === 'unknown') out.ver = ver;
  }
  return out;
}

/**
 * The frontend version a ComfyUI server serves: read from the served frontend itself (its entry
 * script names the main chunk, which carries the release as Sentry's `release:"x.y.z"`), so a
 * server started with --front-end-root reports what it really serves; else /system_stats'
 * required_frontend_version (what that ComfyUI pins); undefined when neither answers.
 */
export async function detectFrontendVersion(baseUrl: string, headers: Record<string, string> = {}, fetchImpl: typeof fetch = fetch): Promise<string | undefined> {
  const get = async (path: string): Promise<string | undefined> => {
    try {
      const response = await fetchImpl(new URL(path, baseUrl), { headers, signal: AbortSignal.timeout(10_000) });
      return response.ok ? await response.text() : undefined;
    } catch {
      return undefined;
    }
  };
  const index = await get('/');
  const entry = index && /<script[^>]+type="module"[^>]+src="\.?\/?(assets\/index-[\w-]+\.js)"/.exec(index)?.[1];
  const entryText = entry ? await get(`/${entry}`) : undefined;
  const main = entryText && /["']\.\/(main-[\w-]+\.js)["']/.exec(entryText)?.[1];
  const mainText = main ? await get(`/assets/${main}`) : undefined;
  const served = mainText && /release:\s*[`"'](\d+\.\d+\.\d+)[`"']/.exec(mainText)?.[1];
  if (served) return served;
  const stats = await get('/system_stats');
  try {
    const required = stats ? (JSON.parse(stats) as { system?: { required_frontend_version?: unknown } }).system?.required_frontend_version : undefined;
    return typeof required === 'string' && required ? required : undefined;
  } catch {
    return undefined;
  }
}
