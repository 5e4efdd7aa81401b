import type { ScenarioSession, HttpResult } from './session.js';
import { isRecord } from './session.js';
import { solidPng } from './png.js';
import { VALIDATION_SCENARIOS } from './validation-scenarios.js';
import {
  coreRaisePrompt,
  previewFramesPrompt,
  savedImagePrompt,
  slowCounterPrompt,
  testRaisePrompt,
  tiledVaePrompt,
  type ApiPrompt,
} from './prompts.js';

export interface ImageRef {
  filename: string;
  subfolder: string;
  type: string;
}

/** What earlier scenarios learnt that later ones reuse (saved filenames, prompt ids). */
export interface SharedState {
  normalPromptId?: string;
  savedImage?: ImageRef;
  previewImage?: ImageRef;
  failedPromptId?: string;
}

export interface ScenarioContext {
  nodeClasses: ReadonlySet<string>;
  shared: SharedState;
}

export interface Scenario {
  name: string;
  description: string;
  featureFlags: boolean;
  /** Node classes the scenario needs; it is skipped when one is missing from /object_info. */
  requires: string[];
  run(session: ScenarioSession, context: ScenarioContext): Promise<void>;
}

const SLOW = 'ComfyConnectorSlowCounter';

const image = (): ApiPrompt[string] => ({ class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } });
const save = (from: string): ApiPrompt[string] => ({ class_type: 'SaveImage', inputs: { images: [from, 0], filename_prefix: 'cc_invalid' } });

async function postPrompt(s: ScenarioSession, prompt: unknown, extraData?: Record<string, unknown>): Promise<HttpResult> {
  const body: Record<string, unknown> = { prompt, client_id: s.clientId };
  if (extraData) body['extra_data'] = extraData;
  return s.http('POST', '/prompt', body);
}

function promptIdOf(result: HttpResult, what: string): string {
  if (result.status !== 200 || !isRecord(result.body) || typeof result.body['prompt_id'] !== 'string') {
    throw new Error(`${what}: POST /prompt answered ${result.status} ${JSON.stringify(result.body).slice(0, 500)}`);
  }
  return result.body['prompt_id'];
}

async function runToEnd(s: ScenarioSession, prompt: ApiPrompt, what: string, extraData?: Record<string, unknown>): Promise<string> {
  const id = promptIdOf(await postPrompt(s, prompt, extraData), what);
  await s.waitForPromptEnd(id);
  return id;
}

function waitForProgress(s: ScenarioSession, promptId: string): Promise<unknown> {
  return s.waitFor(
    (m) => m.type === 'progress' && isRecord(m.data) && m.data['prompt_id'] === promptId,
    60_000,
    `a progress message of ${promptId}`,
  );
}

function firstImage(history: unknown, promptId: string, nodeId: string): ImageRef | undefined {
  if (!isRecord(history)) return undefined;
  const entry = history[promptId];
  if (!isRecord(entry) || !isRecord(entry['outputs'])) return undefined;
  const output = entry['outputs'][nodeId];
  if (!isRecord(output) || !Array.isArray(output['images'])) return undefined;
  const first: unknown = output['images'][0];
  if (!isRecord(first)) return undefined;
  return { filename: String(first['filename']), subfolder: String(first['subfolder']), type: String(first['type']) };
}

function viewPath(ref: { filename: string; subfolder?: string; type?: string }, extra = ''): string {
  const query = new URLSearchParams({ filename: ref.filename });
  if (ref.subfolder !== undefined) query.set('subfolder', ref.subfolder);
  if (ref.type !== undefined) query.set('type', ref.type);
  return `/view?${query.toString()}${extra}`;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'normal-save-image',
    description:
      'EmptyImage → ImageInvert → SaveImage plus a PreviewImage, no feature flags. Then the history entry and /view of both files.',
    featureFlags: false,
    requires: [],
    async run(s, c) {
      const id = await runToEnd(s, savedImagePrompt('cc_normal'), 'normal run');
      c.shared.normalPromptId = id;
      const history = await s.http('GET', `/history/${id}`);
      const saved = firstImage(history.body, id, '3');
      const preview = firstImage(history.body, id, '4');
      if (saved) {
        c.shared.savedImage = saved;
        await s.http('GET', viewPath(saved));
      }
      if (preview) {
        c.shared.previewImage = preview;
        await s.http('GET', viewPath(preview));
      }
      await s.http('GET', '/queue');
    },
  },
  {
    name: 'progress-vae-tiled',
    description:
      'VAELoader pixel_space → VAEEncodeTiled → VAEDecodeTiled (64 px tiles on 1024×1024) → PreviewImage with extra_data.preview_method "auto" and feature flags: step progress and progress_state from a core node.',
    featureFlags: true,
    requires: ['VAEEncodeTiled', 'VAEDecodeTiled'],
    async run(s) {
      const id = await runToEnd(s, tiledVaePrompt(), 'tiled VAE run', { preview_method: 'auto' });
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'cached-rerun',
    description: 'The progress-vae-tiled prompt queued again unchanged: every node cached, the PreviewImage output replayed.',
    featureFlags: true,
    requires: ['VAEEncodeTiled', 'VAEDecodeTiled'],
    async run(s) {
      const id = await runToEnd(s, tiledVaePrompt(), 'cached re-run', { preview_method: 'auto' });
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'previews-binary-type1',
    description:
      'No feature flags: SaveImageWebsocket sends a PNG (type 1, format 2) and SlowCounter with send_preview sends JPEG step previews (type 1, format 1).',
    featureFlags: false,
    requires: ['SaveImageWebsocket'],
    async run(s, c) {
      const id = await runToEnd(s, previewFramesPrompt(c.nodeClasses.has(SLOW)), 'type-1 previews', { preview_method: 'auto' });
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'previews-binary-type4',
    description:
      'Feature flags supports_preview_metadata: the same previews arrive as type 4 frames with a JSON metadata header.',
    featureFlags: true,
    requires: ['SaveImageWebsocket'],
    async run(s, c) {
      const id = await runToEnd(s, previewFramesPrompt(c.nodeClasses.has(SLOW)), 'type-4 previews', { preview_method: 'auto' });
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'node-raises-core',
    description:
      'A core node failing at run time: SaveImage with filename_prefix "../../cc_escape" raises "Saving image outside the output folder is not allowed".',
    featureFlags: false,
    requires: [],
    async run(s, c) {
      const id = await runToEnd(s, coreRaisePrompt(), 'core raise');
      c.shared.failedPromptId = id;
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'node-raises-test-node',
    description: 'ComfyConnectorRaise raises RuntimeError("recorded failure") after an EmptyImage ran.',
    featureFlags: false,
    requires: ['ComfyConnectorRaise'],
    async run(s) {
      const id = await runToEnd(s, testRaisePrompt('recorded failure'), 'test-node raise');
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'interrupt-running',
    description:
      'SlowCounter (50 steps × 100 ms) started; once its first progress arrived, POST /interrupt {prompt_id}; then its history entry.',
    featureFlags: false,
    requires: [SLOW],
    async run(s) {
      const id = promptIdOf(await postPrompt(s, slowCounterPrompt(50, 100)), 'interrupt');
      await waitForProgress(s, id);
      s.note('progress arrived: interrupting');
      await s.http('POST', '/interrupt', { prompt_id: id });
      await s.waitForPromptEnd(id);
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'reconnect-while-running',
    description:
      'SlowCounter (20 × 100 ms) running for this clientId; the WebSocket is closed and reopened with the same clientId: the greeting then includes executing for the running node; the prompt ends normally.',
    featureFlags: false,
    requires: [SLOW],
    async run(s) {
      const id = promptIdOf(await postPrompt(s, slowCounterPrompt(20, 100)), 'reconnect');
      await waitForProgress(s, id);
      await s.reconnect();
      await s.waitForPromptEnd(id);
    },
  },
  {
    name: 'no-client-id',
    description:
      'A prompt queued without client_id (SlowCounter with JPEG previews when loaded, else the normal image prompt): what an unrelated socket sees; the end is found by polling /history/<id>.',
    featureFlags: false,
    requires: [],
    async run(s, c) {
      const prompt = c.nodeClasses.has(SLOW) ? slowCounterPrompt(3, 50, true) : savedImagePrompt('cc_no_client');
      const id = promptIdOf(await s.http('POST', '/prompt', { prompt, extra_data: { preview_method: 'auto' } }), 'no client_id');
      s.note('polling GET /history/<id> every 200 ms (not recorded) until the entry exists');
      for (let i = 0; i < 300; i++) {
        const response = await fetch(`${s.baseUrl}/history/${id}`);
        const body = (await response.json()) as Record<string, unknown>;
        if (id in body) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 300));
      await s.http('GET', `/history/${id}`);
    },
  },
  {
    name: 'interrupt-idle',
    description: 'POST /interrupt with no body and with an unknown prompt_id while nothing runs.',
    featureFlags: false,
    requires: [],
    async run(s) {
      await s.http('POST', '/interrupt');
      await s.http('POST', '/interrupt', { prompt_id: 'no-such-prompt' });
      await s.http('GET', '/queue');
    },
  },
  {
    name: 'queued-behind',
    description:
      'SlowCounter A (20 × 100 ms) running; prompt B queued behind it: status messages, GET /queue and GET /prompt while B waits, then both finish.',
    featureFlags: false,
    requires: [SLOW],
    async run(s) {
      const a = promptIdOf(await postPrompt(s, slowCounterPrompt(20, 100)), 'prompt A');
      await waitForProgress(s, a);
      s.note('A is running: queueing B');
      const b = promptIdOf(await postPrompt(s, slowCounterPrompt(2, 10)), 'prompt B');
      await s.http('GET', '/queue');
      await s.http('GET', '/prompt');
      await s.waitForPromptEnd(a);
      await s.waitForPromptEnd(b);
      await s.http('GET', '/queue');
    },
  },
  {
    name: 'delete-pending',
    description:
      'SlowCounter A running, B and C pending; POST /queue {delete:[B]}, then {clear:true}; GET /queue after each; A is then interrupted.',
    featureFlags: false,
    requires: [SLOW],
    async run(s) {
      const a = promptIdOf(await postPrompt(s, slowCounterPrompt(40, 100)), 'prompt A');
      await waitForProgress(s, a);
      s.note('A is running: queueing B and C');
      const b = promptIdOf(await postPrompt(s, slowCounterPrompt(2, 10)), 'prompt B');
      promptIdOf(await postPrompt(s, slowCounterPrompt(3, 10)), 'prompt C');
      await s.http('GET', '/queue');
      await s.http('POST', '/queue', { delete: [b] });
      await s.http('GET', '/queue');
      await s.http('POST', '/queue', { clear: true });
      await s.http('GET', '/queue');
      await s.http('POST', '/interrupt', { prompt_id: a });
      await s.waitForPromptEnd(a);
      await s.http('GET', `/history/${b}`);
      await s.http('GET', '/queue');
    },
  },
  {
    name: 'partial-node-errors',
    description: 'Two outputs, one invalid (SaveImage with no images input): 200 with node_errors, the valid output runs.',
    featureFlags: false,
    requires: [],
    async run(s) {
      const prompt: ApiPrompt = {
        '1': image(),
        '2': save('1'),
        '3': { class_type: 'SaveImage', inputs: { filename_prefix: 'cc_partial_bad' } },
      };
      const id = await runToEnd(s, prompt, 'partial');
      await s.http('GET', `/history/${id}`);
    },
  },
  ...VALIDATION_SCENARIOS,
  {
    name: 'validation-malformed-bodies',
    description: 'POST /prompt with a non-JSON body, with "prompt" a string, and with "prompt" an empty object.',
    featureFlags: false,
    requires: [],
    async run(s) {
      await s.httpRaw('POST', '/prompt', 'this is not json');
      await s.http('POST', '/prompt', { prompt: 'not an object', client_id: s.clientId });
      await s.http('POST', '/prompt', { prompt: {}, client_id: s.clientId });
    },
  },
  {
    name: 'uploads',
    description:
      'POST /upload/image: new name, same-bytes collision, different-bytes collision, overwrite, subfolder, temp type, traversal attempts, no file; POST /upload/mask with and without original_ref.',
    featureFlags: false,
    requires: [],
    async run(s) {
      const red = solidPng(4, 4, [255, 0, 0, 255]);
      const blue = solidPng(4, 4, [0, 0, 255, 255]);
      const mask = solidPng(4, 4, [0, 0, 0, 128]);
      const file = (filename: string, bytes: Buffer) => ({ filename, bytes, contentType: 'image/png' });
      await s.upload('/upload/image', {}, file('cc_upload.png', red));
      await s.upload('/upload/image', {}, file('cc_upload.png', red));
      await s.upload('/upload/image', {}, file('cc_upload.png', blue));
      await s.upload('/upload/image', { overwrite: 'true' }, file('cc_upload.png', blue));
      await s.upload('/upload/image', { subfolder: 'cc_sub' }, file('cc_in_sub.png', red));
      await s.upload('/upload/image', { type: 'temp' }, file('cc_temp.png', red));
      await s.upload('/upload/image', { subfolder: '../x' }, file('cc_escape.png', red));
      await s.upload('/upload/image', {}, file('../cc_dotdot.png', red));
      await s.upload('/upload/image', { subfolder: 'cc_sub' });
      await s.upload(
        '/upload/mask',
        { original_ref: JSON.stringify({ filename: 'cc_upload.png', type: 'input', subfolder: '' }) },
        file('cc_mask.png', mask),
      );
      await s.upload('/upload/mask', {}, file('cc_mask_noref.png', mask));
      await s.http('GET', viewPath({ filename: 'cc_upload.png', type: 'input' }));
      await s.http('GET', viewPath({ filename: 'cc_upload (1).png', type: 'input' }));
      await s.http('GET', viewPath({ filename: 'cc_in_sub.png', subfolder: 'cc_sub', type: 'input' }));
      await s.http('GET', viewPath({ filename: 'cc_temp.png', type: 'temp' }));
      await s.http('GET', viewPath({ filename: 'cc_mask.png', type: 'input' }));
    },
  },
  {
    name: 'view',
    description:
      '/view hits (output, temp, input with subfolder, preview=webp, channel=rgb) and misses (missing file 404, no filename, "..", unknown type, subfolder escaping).',
    featureFlags: false,
    requires: [],
    async run(s, c) {
      if (c.shared.savedImage) {
        await s.http('GET', viewPath(c.shared.savedImage));
        await s.http('GET', viewPath({ filename: c.shared.savedImage.filename }));
        await s.http('GET', viewPath(c.shared.savedImage, '&preview=webp;50'));
        await s.http('GET', viewPath(c.shared.savedImage, '&channel=rgb'));
        await s.http('GET', `/view?filename=${encodeURIComponent(`${c.shared.savedImage.filename} [output]`)}&type=input`);
      }
      if (c.shared.previewImage) await s.http('GET', viewPath(c.shared.previewImage));
      await s.http('GET', viewPath({ filename: 'cc_in_sub.png', subfolder: 'cc_sub', type: 'input' }));
      await s.http('GET', viewPath({ filename: 'cc_no_such_file.png', type: 'output' }));
      await s.http('GET', viewPath({ filename: 'cc_no_such_file.png', subfolder: 'cc_sub', type: 'input' }));
      await s.http('GET', '/view');
      await s.http('GET', viewPath({ filename: '../cc_upload.png', type: 'input' }));
      await s.http('GET', viewPath({ filename: 'cc_upload.png', type: 'bogus' }));
      await s.http('GET', viewPath({ filename: 'cc_upload.png', subfolder: '../..', type: 'input' }));
      await s.http('GET', viewPath({ filename: 'cc_sub/cc_in_sub.png', type: 'input' }));
    },
  },
  {
    name: 'history-queue-info',
    description:
      'GET /history (all, max_items, offset), /history/<id> known and unknown, /queue and /prompt while idle, /object_info/<class> hit and miss, /api/jobs.',
    featureFlags: false,
    requires: [],
    async run(s, c) {
      await s.http('GET', '/history');
      await s.http('GET', '/history?max_items=1');
      await s.http('GET', '/history?max_items=2&offset=1');
      if (c.shared.normalPromptId) await s.http('GET', `/history/${c.shared.normalPromptId}`);
      await s.http('GET', '/history/00000000-0000-0000-0000-000000000000');
      await s.http('GET', '/queue');
      await s.http('GET', '/prompt');
      await s.http('GET', '/object_info/EmptyImage');
      await s.http('GET', '/object_info/NoSuchNodeClass');
      await s.http('GET', '/api/jobs?limit=2');
      if (c.shared.normalPromptId) await s.http('GET', `/api/jobs/${c.shared.normalPromptId}`);
      if (c.shared.failedPromptId) await s.http('GET', `/api/jobs/${c.shared.failedPromptId}`);
      await s.http('GET', '/api/jobs/00000000-0000-0000-0000-000000000000');
    },
  },
];
