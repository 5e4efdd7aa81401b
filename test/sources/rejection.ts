import assert from 'node:assert/strict';

/** The error a promise rejects with (typed loosely for assertions); fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; url?: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `rejected with a non-Error: ${String(error)}`);
    return error as Error & { code: string; url?: string };
  }
  assert.fail('expected a rejection, but it resolved');
}
