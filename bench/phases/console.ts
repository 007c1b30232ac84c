/**
 * 5) Console: how fast the web console shows a big deployment list, and how much JavaScript its
 * first page loads. 1,000 deployments are written straight into the scratch database for a user
 * of their own (rows only: no workflow, nothing to install), then Debian's Chromium opens
 * (a) the admin's "All deployments" page, whose table holds all 1,000, and (b) that user's own
 * list (its first page of 25); each is timed from navigation start until the table is filled
 * and the page's main thread is free to answer a click.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../../test/support/chromium';
import { BenchContext } from '../lib/context';
import { expectStatus } from '../lib/http';
import { log, percentile, round } from '../lib/util';

const N = 1000;
const RUNS = 5;

/**
 * Evaluated in the page as a function (a string would need eval, which the console's CSP forbids).
 * It also notes when the table first had a row (checked every frame), as `__firstRowAt`.
 */
const rowsAtLeast = (n: number) => {
  const g = globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } }; performance: { now(): number }; __firstRowAt?: number };
  const rows = g.document.querySelectorAll('table.deployments tbody tr').length;
  if (rows > 0 && g.__firstRowAt === undefined) g.__firstRowAt = g.performance.now();
  return rows >= n;
};

/**
 * Navigation start → the table has `rows` rows and a task queued after that runs (the page can
 * take input); also when its first rows showed.
 */
async function timeList(page: Page, url: string, rows: number): Promise<{ total: number; firstRows: number; lastApiResponse: number }> {
  await page.goto(url, { waitUntil: 'commit' });
  await page.reload({ waitUntil: 'commit' });
  await page.waitForFunction(rowsAtLeast, rows, { timeout: 60_000, polling: 'raf' });
  const total = await page.evaluate<number>('new Promise((resolve) => setTimeout(() => resolve(performance.now()), 0))');
  const firstRows = await page.evaluate<number>('globalThis.__firstRowAt ?? NaN');
  // When the last API answer arrived: the rest is the browser's (JSON, React, layout).
  const lastApiResponse = await page.evaluate<number>(`Math.max(0, ...performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch').map((e) => e.responseEnd))`);
  return { total, firstRows, lastApiResponse };
}

export async function consolePhase(ctx: BenchContext) {
  const executablePath = ensureChromium();
  const user = await expectStatus(ctx.api.request<{ id: string; apiToken: string }>('POST', '/users', { email: `console@${ctx.prefix}.example.com` }), 201, 'create console user');
  const product = (await ctx.db.client.query<{ id: string }>('SELECT product_id AS id FROM template_versions WHERE id = $1', [ctx.seed.templates.example])).rows[0].id;
  await ctx.db.client.query(
    `INSERT INTO deployments (user_id, product_id, deployment_uid, domain_name, desired_template_id, applied_template_id, user_values, generation, observed_generation, status, last_error, last_reconcile_at, last_drift_check_at)
     SELECT $1, $2, $4 || 'c' || i, 'c' || i || '-' || $5 || '.console.example.com', $3, $3, '{"title":"Bench"}'::jsonb, 1, 1,
            (ARRAY['ready','ready','ready','degraded','error'])[1 + i % 5], CASE WHEN i % 5 = 4 THEN 'helm: timed out waiting for the condition' END, now(), now()
     FROM generate_series(1, $6::int) AS i`,
    [user.id, product, ctx.seed.templates.example, ctx.prefix, ctx.runId, N],
  );
  // Run alone (--only console) the table holds exactly these; after the other phases, theirs too
  // (the page shows the first 1,000 of them).
  const total = Number((await ctx.db.client.query<{ n: string }>(`SELECT count(*) AS n FROM deployments WHERE status <> 'deleted'`)).rows[0].n);
  const shown = Math.min(total, 1000);
  log(`console: ${N} deployments written for user ${user.id}; ${total} in the table`);

  const profile = mkdtempSync(join(tmpdir(), 'caelus-bench-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 860 } });
  try {
    const page = await browser.newPage();
    const base = ctx.api.baseUrl;
    // The JavaScript of the first page load: every script response until the list is shown.
    const scripts = new Map<string, Buffer>();
    page.on('response', async (res) => {
      if (res.request().resourceType() === 'script' && res.ok()) scripts.set(res.url(), await res.body());
    });
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(ctx.api.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(rowsAtLeast, shown, { timeout: 120_000 });
    const js = [...scripts.entries()].map(([url, body]) => ({ file: new URL(url).pathname, bytes: body.length, gzip_bytes: gzipSync(body).length }));
    const firstLoadGzip = js.reduce((a, f) => a + f.gzip_bytes, 0);
    log(`console: first load ${js.length} scripts, ${round(firstLoadGzip / 1000, 1)} kB gzipped`);

    const admin: number[] = [];
    const adminFirst: number[] = [];
    const adminApi: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = await timeList(page, `${base}/#/admin/deployments`, shown);
      admin.push(t.total);
      adminFirst.push(t.firstRows);
      adminApi.push(t.lastApiResponse);
    }
    log(
      `console: all ${shown} rows interactive after ${admin.map((x) => Math.round(x)).join(', ')} ms (first rows at ${adminFirst.map((x) => Math.round(x)).join(', ')} ms; last API answer at ${adminApi.map((x) => Math.round(x)).join(', ')} ms)`,
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The user signs in on their own list (the admin page stays in the URL otherwise).
    await page.goto(`${base}/#/deployments`);
    await page.getByLabel('API token').fill(user.apiToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(rowsAtLeast, 25, { timeout: 60_000 });
    for (let i = 0; i < RUNS; i++) own.push((await timeList(page, `${base}/#/deployments`, 25)).total);
    const med = (xs: number[]) => round(percentile(xs, 50), 0);
    log(`console: all ${shown} rows interactive after ${med(admin)} ms (median of ${RUNS}); a user's first page of 25 of ${N} after ${med(own)} ms`);
    return {
      deployments: N,
      deployments_in_table: total,
      rows_shown: shown,
      runs: RUNS,
      list_interactive_ms: med(admin),
      list_interactive_ms_runs: admin.map((x) => round(x, 0)),
      list_last_api_response_ms_runs: adminApi.map((x) => round(x, 0)),
      // Navigation → the admin table's first rows on screen (the page shows its first page at once).
      list_first_rows_ms: med(adminFirst),
      list_first_rows_ms_runs: adminFirst.map((x) => round(x, 0)),
      user_first_page_interactive_ms: med(own),
      user_first_page_interactive_ms_runs: own.map((x) => round(x, 0)),
      first_load_js_gzip_kb: round(firstLoadGzip / 1000, 1),
      first_load_js: js,
      targets: { list_interactive_ms: 1000, first_load_js_gzip_kb: 300 },
      browser: `Chromium ${browser.browser()?.version() ?? ''}`.trim(),
    };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
