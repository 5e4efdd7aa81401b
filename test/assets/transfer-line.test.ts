// The CLI's display of long transfers (bytes, rate, ETA), used by `run --input URL` and `upload URL`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTransfer, transferProgress } from '../../src/cli/progress/transfer-line.js';

test('a transfer line names the file and shows bytes, total, rate and ETA; no credentials', () => {
  const line = formatTransfer({ url: 'https://models.example.com/loras/style.safetensors?X-Amz-Signature=***', received: 12_300_000, total: 50_000_000, bytesPerSecond: 8_100_000, etaSeconds: 4.6, done: false });
  assert.equal(line, 'style.safetensors  12.3 MB / 50.0 MB  8.1 MB/s  ETA 5s');
  assert.match(formatTransfer({ url: 'https://h/a.bin', received: 5_000, total: undefined, bytesPerSecond: 1_000, etaSeconds: undefined, done: false }), /^a\.bin {2}5\.0 KB {2}1\.0 KB\/s$/);
  assert.match(formatTransfer({ url: 'https://h/a.bin', received: 10, total: 10, bytesPerSecond: 10, etaSeconds: 0, done: true }), /done$/);
  assert.match(formatTransfer({ url: 'https://h/a.bin', received: 1, total: 1e9, bytesPerSecond: 1e6, etaSeconds: 125, done: false }), /ETA 2m05s$/);
});

test('on a terminal one line is redrawn; elsewhere a line at most every 5 s and one at the end; short transfers print nothing', async () => {
  const written: string[] = [];
  const tty = transferProgress({ write: (s: string) => written.push(s), isTTY: true });
  const p = { url: 'https://h/m.bin', received: 1, total: 10, bytesPerSecond: 1, etaSeconds: 9, done: false };
  tty(p); // first report starts the clock: nothing for the first second
  assert.equal(written.length, 0);
  await new Promise((r) => setTimeout(r, 1050));
  tty({ ...p, received: 5 });
  tty({ ...p, received: 10, done: true });
  assert.equal(written.length, 2);
  assert.ok(written[0]!.startsWith('\r\x1b[2K'));
  assert.ok(written[1]!.endsWith('done\n'));

  const lines: string[] = [];
  const plain = transferProgress({ write: (s: string) => lines.push(s) });
  plain(p);
  await new Promise((r) => setTimeout(r, 1050));
  plain({ ...p, received: 5 });
  plain({ ...p, received: 6 }); // within 5 s of the last line: skipped
  plain({ ...p, received: 10, done: true });
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.includes('\r')));
});
