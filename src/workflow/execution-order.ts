/**
 * LGraph.computeExecutionOrder(false): Kahn's algorithm over the saved links. It only decides the
 * order of the `a:b` keys in the prompt (integer-like keys sort themselves), which matters for
 * byte-identical output, not for ComfyUI.
 */
import type { Scope } from './graph.js';
import type { UiNode } from './types.js';

export function executionOrder(scope: Scope, linkedInputCount: (node: UiNode) => number): UiNode[] {
  const order: UiNode[] = [];
  const queue: UiNode[] = [];
  const remaining = new Map<string, number>();
  const pending = new Map<string, UiNode>();
  for (const node of scope.order) {
    const id = String(node.id);
    pending.set(id, node);
    const count = linkedInputCount(node);
    if (count === 0) queue.push(node);
    else remaining.set(id, count);
  }
  const visited = new Set<string>();
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as UiNode;
    order.push(node);
    pending.delete(String(node.id));
    for (const output of node.outputs ?? []) {
      for (const linkId of output?.links ?? []) {
        const link = scope.links.get(String(linkId));
        if (!link || visited.has(link.id)) continue;
        visited.add(link.id);
        if (!scope.nodes.has(link.targetId)) continue;
        const left = (remaining.get(link.targetId) ?? 0) - 1;
        remaining.set(link.targetId, left);
        if (left === 0) queue.push(scope.nodes.get(link.targetId) as UiNode);
      }
    }
  }
  // Leftovers (cycles) follow in JavaScript object-key order: integer-like ids ascending first.
  const rest = [...pending.entries()];
  const isIndex = (k: string) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
  rest.sort(([a], [b]) => (isIndex(a) && isIndex(b) ? Number(a) - Number(b) : isIndex(a) ? -1 : isIndex(b) ? 1 : 0));
  for (const [, node] of rest) order.push(node);
  return order;
}
