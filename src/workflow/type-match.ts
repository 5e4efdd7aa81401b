/** LiteGraph.isValidConnection: may a slot of type `a` connect to one of type `b`? */
export function isValidConnection(a: unknown, b: unknown): boolean {
  const left = a === '' || a === '*' ? 0 : a;
  const right = b === '' || b === '*' ? 0 : b;
  if (!left || !right || left === right) return true;
  const x = String(left).toLowerCase();
  const y = String(right).toLowerCase();
  if (!x.includes(',') && !y.includes(',')) return x === y;
  for (const p of x.split(',')) for (const q of y.split(',')) if (isValidConnection(p, q)) return true;
  return false;
}
