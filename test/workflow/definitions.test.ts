import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DefinitionsCache, NodeDefinitions, type ObjectInfo } from '../../src/workflow/index.js';
import { findDefinitionsFile } from './corpus.js';
import { DEFS } from './wf-builder.js';

const slots = (defs: NodeDefinitions, type: string) => defs.classInfo(type)!.widgets.filter((w) => w.takesSlot).map((w) => `${w.name}${w.sent ? '' : '*'}`);

describe('NodeDefinitions widget layouts', () => {
  const defs = new NodeDefinitions(DEFS);

  test('seed gets a control slot, the upload button a slot after the image combo (* = not sent)', () => {
    assert.deepEqual(slots(defs, 'KSampler'), ['seed', 'control_after_generate*', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']);
    assert.deepEqual(slots(defs, 'LoadImage'), ['image', 'upload*']);
  });

  test('V3 combos, combo controls (two slots), explicit control false, forceInput', () => {
    assert.deepEqual(slots(defs, 'V3Node'), ['mode', 'pick', 'control_after_generate*', 'control_filter_list*', 'seed', 'strength']);
    const info = defs.classInfo('V3Node')!;
    assert.equal(info.socketByName.get('note')?.forceInput, true);
    assert.equal(info.socketByName.get('note')?.hasWidget, false);
    assert.equal(info.widgets[0]?.defaultValue, 'slow');
  });

  test('unknown classes have no layout; layouts are cached', () => {
    assert.equal(defs.classInfo('Nope'), undefined);
    assert.equal(defs.classInfo('KSampler'), defs.classInfo('KSampler'));
  });

  test('refresh() reloads through the loader and drops cached layouts', async () => {
    let calls = 0;
    const loader = async (): Promise<ObjectInfo> => (++calls === 1 ? { KSampler: DEFS.KSampler! } : { LoadImage: DEFS.LoadImage! });
    const live = await NodeDefinitions.load(loader);
    assert.ok(live.classInfo('KSampler'));
    await live.refresh();
    assert.equal(live.classInfo('KSampler'), undefined);
    assert.ok(live.has('LoadImage'));
    assert.equal(calls, 2);
  });

  test('DefinitionsCache shares one fetch per server and forgets failures', async () => {
    const cache = new DefinitionsCache();
    let calls = 0;
    const loader = async (): Promise<ObjectInfo> => { calls++; return DEFS; };
    const [a, b] = await Promise.all([cache.get('http://a', loader), cache.get('http://a', loader)]);
    assert.equal(a, b);
    assert.equal(calls, 1);
    await cache.refresh('http://a');
    assert.equal(calls, 2);
    await assert.rejects(cache.get('http://b', async () => { throw new Error('down'); }));
    assert.ok(await cache.get('http://b', loader));
  });
});

const file = findDefinitionsFile();
describe('NodeDefinitions on the recorded ComfyUI 0.33 /object_info', { skip: file && existsSync(file) ? false : 'no recorded object_info' }, () => {
  test('real layouts: KSampler, LoadImage, LoadAudio, CLIPTextEncode', () => {
    const defs = NodeDefinitions.fromFile(file as string).precompute();
    assert.deepEqual(slots(defs, 'KSampler'), ['seed', 'control_after_generate*', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']);
    assert.deepEqual(slots(defs, 'LoadImage'), ['image', 'upload*']);
    assert.deepEqual(slots(defs, 'LoadAudio'), ['audio', 'upload*']);
    assert.equal(defs.classInfo('CLIPTextEncode')?.widgets[0]?.dynamicPrompts, true);
    assert.ok(defs.size > 800);
  });
});
