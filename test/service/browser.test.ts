// The operator's pages in Debian's Chromium: the bull-board dashboard lists the fleet's queue and
// its jobs, /docs (Swagger UI) lists the routes. UPDATE_SCREENSHOTS=1 refreshes docs/service-*.png.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findChromium, launchChromium, type LaunchedBrowser } from '../../src/workflow/browser/launch.js';
import { redisSkip } from '../helpers/redis.js';
import { REPO_ROOT } from '../helpers/targets.js';
import { ADMIN_KEY, startApi, tinyPrompt, type Api } from './harness.js';

function chromiumSkip(): string | undefined {
  if (findChromium()) return undefined;
  if (process.env.CI === 'true') throw new Error('chromium not found, but CI=true, where .ci/run installs it');
  return 'chromium not found (apt-get install -y chromium): service browser tests skipped';
}

const skip = redisSkip() ?? chromiumSkip();
const shots = process.env.UPDATE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'svc-shots-'));

describe('service pages in Chromium', { skip, timeout: 120_000 }, () => {
  let api: Api;
  let browser: LaunchedBrowser;
  before(async () => {
    api = await startApi();
    for (let i = 0; i < 3; i++) await api.call('/v1/jobs', { json: { workflow: tinyPrompt(500 + i) } });
    browser = await launchChromium({ headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  });
  after(async () => {
    await browser?.close();
    await api?.stop();
    if (process.env.UPDATE_SCREENSHOTS !== '1') rmSync(shots, { recursive: true, force: true });
  });

  test('the dashboard renders and lists the queue with its waiting jobs', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${api.url}/dashboard/`);
    await page.getByText(api.queueName).first().waitFor({ timeout: 30_000 });
    await page.goto(`${api.url}/dashboard/queue/${encodeURIComponent(api.queueName)}?status=prioritized`);
    await page.getByText(/^job-[0-9a-f-]{36}$/).first().waitFor({ timeout: 30_000 });
    const text = await page.locator('body').innerText();
    assert.match(text, /comfy-connector/i, 'the board title');
    assert.equal(new Set(text.match(/job-[0-9a-f-]{36}/g)).size, 3, `the three waiting jobs are listed:\n${text.slice(0, 2000)}`);
    await page.screenshot({ path: join(shots, 'service-dashboard.png') });
    await page.close();
  });

  test('/docs renders the OpenAPI document with the job routes', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${api.url}/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/v1/jobs/{id}/events' }).first().waitFor({ timeout: 30_000 });
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    for (const p of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel', '/runsync', '/prompt']) {
      assert.ok(paths.some((x) => x.replace(/\u200b/g, '').trim() === p), `${p} in ${paths.join(', ')}`);
    }
    await page.screenshot({ path: join(shots, 'service-docs.png'), fullPage: false });
    await page.close();
  });
});
