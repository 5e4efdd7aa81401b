import type { WsBinaryStep } from './steps.js';

/** ComfyUI's binary WebSocket event types (server.py BinaryEventTypes). */
export const PREVIEW_IMAGE = 1;
export const TEXT = 3;
export const PREVIEW_IMAGE_WITH_METADATA = 4;

/**
 * Describes a binary frame without keeping the image bytes: fixtures stay small and
 * free of JPEG encoder noise, while the header fields the client parses are kept.
 */
export function describeBinaryFrame(frame: Buffer): WsBinaryStep {
  if (frame.length < 4) {
    return { kind: 'ws-binary', eventType: -1, length: frame.length };
  }
  const eventType = frame.readUInt32BE(0);
  const step: WsBinaryStep = { kind: 'ws-binary', eventType, length: frame.length };
  if (eventType === PREVIEW_IMAGE && frame.length >= 8) {
    step.imageFormat = frame.readUInt32BE(4);
  } else if (eventType === PREVIEW_IMAGE_WITH_METADATA && frame.length >= 8) {
    const metadataLength = frame.readUInt32BE(4);
    const json = frame.subarray(8, 8 + metadataLength).toString('utf8');
    step.metadata = parseJsonOr(json);
  } else if (eventType === TEXT && frame.length >= 8) {
    const nodeIdLength = frame.readUInt32BE(4);
    step.nodeId = frame.subarray(8, 8 + nodeIdLength).toString('utf8');
    step.text = frame.subarray(8 + nodeIdLength).toString('utf8');
  }
  return step;
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
