/** Decoding of ComfyUI's binary WebSocket frames (a 4-byte big-endian event type, then a payload). */

export interface PreviewFrame {
  kind: 'preview';
  mime: string;
  data: Buffer;
  /** Only type-4 frames (negotiated with supports_preview_metadata) name their node and prompt. */
  node?: string;
  promptId?: string;
}

export interface TextFrame {
  kind: 'text';
  node: string;
  text: string;
}

export type BinaryFrame = PreviewFrame | TextFrame;

const PREVIEW_IMAGE = 1;
const TEXT = 3;
const PREVIEW_IMAGE_WITH_METADATA = 4;

/** Returns undefined for frame types we do not know or frames too short to be valid. */
export function decodeBinaryFrame(frame: Buffer): BinaryFrame | undefined {
  if (frame.length < 8) return undefined;
  const type = frame.readUInt32BE(0);
  if (type === PREVIEW_IMAGE) {
    const format = frame.readUInt32BE(4);
    return { kind: 'preview', mime: format === 2 ? 'image/png' : 'image/jpeg', data: frame.subarray(8) };
  }
  if (type === TEXT) {
    const length = frame.readUInt32BE(4);
    if (8 + length > frame.length) return undefined;
    return { kind: 'text', node: frame.toString('utf8', 8, 8 + length), text: frame.toString('utf8', 8 + length) };
  }
  if (type === PREVIEW_IMAGE_WITH_METADATA) {
    const length = frame.readUInt32BE(4);
    if (8 + length > frame.length) return undefined;
    let meta: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(frame.toString('utf8', 8, 8 + length));
      if (parsed && typeof parsed === 'object') meta = parsed as Record<string, unknown>;
    } catch {
      // A preview with unreadable metadata is still a preview; it just cannot be routed by id.
    }
    const preview: PreviewFrame = {
      kind: 'preview',
      mime: typeof meta['image_type'] === 'string' ? meta['image_type'] : 'image/jpeg',
      data: frame.subarray(8 + length),
    };
    const node = meta['display_node_id'] ?? meta['node_id'];
    if (typeof node === 'string') preview.node = node;
    if (typeof meta['prompt_id'] === 'string') preview.promptId = meta['prompt_id'];
    return preview;
  }
  return undefined;
}
