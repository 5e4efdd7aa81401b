import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventFollow, parseNotice } from '../../src/queue/event-log.js';
import type { JobEvent } from '../../src/queue/types.js';

const event = (seq: number): JobEvent => ({ seq, at: 1, jobId: 'job-1', type: 'node', node: String(seq) });

test('notices: a bare job id, or the job id with the event and its seq', () => {
  assert.deepEqual(parseNotice('job-1'), { jobId: 'job-1' });
  const body = JSON.stringify({ type: 'node', node: '4', at: 5, jobId: 'job-1' });
  assert.deepEqual(parseNotice(`job-1\n7\n${body}`), { jobId: 'job-1', event: { type: 'node', node: '4', at: 5, jobId: 'job-1', seq: 7 } });
  assert.deepEqual(parseNotice('job-1\n7\nnot json'), { jobId: 'job-1' }, 'a damaged event means: read the log');
});

test('a follower reads the log first, then takes pushed events only when none is missing', () => {
  const follow = new EventFollow(() => undefined);
  follow.notice(event(1));
  assert.equal(follow.take(0), undefined, 'the first take always reads the log');
  follow.notice(event(2));
  follow.notice(event(3));
  assert.deepEqual(follow.take(1)?.map((e) => e.seq), [2, 3]);
  assert.deepEqual(follow.take(3), [], 'nothing new since');
  follow.notice(event(5));
  assert.equal(follow.take(3), undefined, 'seq 4 is missing: read the log');
  follow.notice(event(4));
  assert.deepEqual(follow.take(5), [], 'already seen (the log read covered it)');
  follow.notice();
  assert.equal(follow.take(5), undefined, 'a notice without its event (too large to travel): read the log');
});

test('wait returns at once when a notice came since the last take, and marks a timeout as a read', async () => {
  const follow = new EventFollow(() => undefined);
  follow.take(0);
  follow.notice(event(1));
  const t0 = Date.now();
  await follow.wait(5000);
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(follow.take(0)?.map((e) => e.seq), [1]);
  await follow.wait(20);
  assert.equal(follow.take(1), undefined, 'after a timeout the log is read again');
  const later = follow.wait(5000);
  setTimeout(() => follow.notice(event(2)), 10);
  await later;
  assert.deepEqual(follow.take(1)?.map((e) => e.seq), [2]);
});
