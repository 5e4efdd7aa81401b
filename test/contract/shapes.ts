// Shared prompts and shape checks for the contract suite.
import assert from 'node:assert/strict';

export const SAVE_PROMPT = (prefix: string, color = 0xff0000) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 8, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
});
export const SLOW_PROMPT = (steps: number, delayMs: number) => ({ '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs } } });
export const RAISE_PROMPT = (message: string) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
  '2': { class_type: 'ComfyConnectorRaise', inputs: { message, image: ['1', 0] } },
});

export function assertHistoryEntryShape(entry: any, promptId: string): void {
  assert.deepEqual(Object.keys(entry).sort(), ['meta', 'outputs', 'prompt', 'status']);
  assert.equal(entry.prompt.length, 5);
  assert.equal(typeof entry.prompt[0], 'number');
  assert.equal(entry.prompt[1], promptId);
  assert.equal(typeof entry.prompt[2], 'object');
  assert.equal(typeof entry.prompt[3].create_time, 'number');
  assert.ok(Array.isArray(entry.prompt[4]));
  assert.deepEqual(Object.keys(entry.status).sort(), ['completed', 'messages', 'status_str']);
  const events = entry.status.messages.map((m: [string, unknown]) => m[0]);
  assert.deepEqual(events.slice(0, 2), ['execution_start', 'execution_cached']);
  for (const [, data] of entry.status.messages) {
    assert.equal((data as any).prompt_id, promptId);
    assert.equal(typeof (data as any).timestamp, 'number');
  }
  for (const [id, m] of Object.entries<any>(entry.meta)) assert.deepEqual(m, { node_id: id, display_node: id, parent_node: null, real_node_id: id });
}

/** Collapses repeated consecutive types (progress ticks) so orders compare across servers. */
export function squash(types: string[]): string[] {
  return types.filter((t, i) => t !== types[i - 1]);
}

/** Width and height of a WebP (lossy VP8, lossless VP8L or extended VP8X); throws on anything else. */
export function webpSize(b: Buffer): { width: number; height: number } {
  assert.equal(b.toString('latin1', 0, 4), 'RIFF', 'a RIFF container');
  assert.equal(b.toString('latin1', 8, 12), 'WEBP', 'holding a WebP');
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = b.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
  throw new assert.AssertionError({ message: `unknown WebP chunk ${chunk}` });
}
