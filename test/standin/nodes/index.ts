// Node implementations by class name. A known class without one runs as a zero-cost no-op whose
// outputs are null placeholders, so any valid prompt can run end to end.
import { imageNodes } from './image-nodes.js';
import { otherNodes } from './other-nodes.js';
import type { NodeImpl } from './types.js';

const IMPLS: Record<string, NodeImpl> = { ...imageNodes, ...otherNodes };

export function implFor(classType: string, outputCount: number): NodeImpl {
  return IMPLS[classType] ?? { async run() { return { result: new Array<null>(outputCount).fill(null) }; } };
}

export function hasImpl(classType: string): boolean {
  return Object.hasOwn(IMPLS, classType);
}
