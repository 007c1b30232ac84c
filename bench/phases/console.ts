/**
 * 5) Console: how fast the web console shows a big deployment list, and how much JavaScript its
 * first page loads. 1,000 deployments are written straight into the scratch database for a user
 * of their own (rows only: no workflow, nothing to install), then Debian's Chromium opens
 * (a) the admin's "All deployments" page, whose table holds all 1,000, and (b) that user's own
 * list (its first page of 25); each is timed from navigation start until the table holds all its
 * rows, shows them from its top to the bottom of the window, and the page's main thread is free to
 * answer a click. A table that long keeps only the rows near the viewport in the DOM (the
 * console's row windowing), so "holds" is its aria-rowcount; after each timing the page is
 * scrolled to the end and the last deployment's row must show (timed too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../../test/support/chromium';
import { BenchContext } from '../lib/context';
import { expectStatus } from '../lib/http';
import { log, percentile, round } from '../lib/util';

const N = 1000;
const RUNS = 9;

/**
 * Evaluated in the page as a function (a string would need eval, which the console's CSP forbids):
 * the table says it holds `n` rows (aria-rowcount counts the header row too) and its rendered rows
 * fill the window below its top (or are all `n`). It also notes when the table first had a row
 * (checked every frame), as `__firstRowAt`.
 */
const tableFilled = (n: number) => {
  type El = { getAttribute(a: string): string | null; getBoundingClientRect(): { bottom: number } };
  const g = globalThis as unknown as {
    document: { querySelector(s: string): El | null; querySelectorAll(s: string): { length: number; [i: number]: El } };
    performance: { now(): number };
    innerHeight: number;
    __firstRowAt?: number;
  };
  const rows = g.document.querySelectorAll('table.deployments tbody tr[aria-rowindex]');
  if (rows.length > 0 && g.__firstRowAt === undefined) g.__firstRowAt = g.performance.now();
  if (g.document.querySelector('table.deployments')?.getAttribute('aria-rowcount') !== String(n + 1)) return false;
  if (rows.length === 0 || rows[0].getAttribute('aria-rowindex') !== '2') return false;
  return rows.length >= n || rows[rows.length - 1].getBoundingClientRect().bottom >= g.innerHeight;
};

/** The table's last row (aria-rowindex n + 1) is in the DOM and on screen. */
const lastRowShown = (n: number) => {
  const g = globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): { top: number } } | null }; innerHeight: number };
  const last = g.document.querySelector(`table.deployments tbody tr[aria-rowindex="${n + 1}"]`);
  return !!last && last.getBoundingClientRect().top < g.innerHeight;
};

interface Timed {
  total: number;
  firstRows: number;
  lastApiResponse: number;
  /** Elements in the page when it was timed (the windowed table keeps this small). */
  elements: number;
  /** From the scroll to the end until the last deployment's row showed. */
  scrollToEnd: number;
}

/**
 * Navigation start → the table holds `rows` rows, shows them down to the window's bottom, and a
 * task queued after that runs (the page can take input); also when its first rows showed, when
 * the last API answer arrived, and how long showing the table's last row takes after a scroll.
 */
async function timeList(page: Page, url: string, rows: number): Promise<Timed> {
  // From the top: a reload restores the scroll position, which the last run left at the end.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.goto(url, { waitUntil: 'commit' });
  await page.reload({ waitUntil: 'commit' });
  await page.waitForFunction(tableFilled, rows, { timeout: 60_000, polling: 'raf' });
  const total = await page.evaluate<number>('new Promise((resolve) => setTimeout(() => resolve(performance.now()), 0))');
  const firstRows = await page.evaluate<number>('globalThis.__firstRowAt ?? NaN');
  // When the last API answer arrived: the rest is the browser's (JSON, React, layout).
  const lastApiResponse = await page.evaluate<number>(`Math.max(0, ...performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch').map((e) => e.responseEnd))`);
  const elements = await page.evaluate<number>(`document.getElementsByTagName('*').length`);
  const scrolledAt = await page.evaluate<number>('(window.scrollTo(0, document.documentElement.scrollHeight), performance.now())');
  await page.waitForFunction(lastRowShown, rows, { timeout: 10_000, polling: 'raf' });
  const scrollToEnd = (await page.evaluate<number>('performance.now()')) - scrolledAt;
  return { total, firstRows, lastApiResponse, elements, scrollToEnd };
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
    await page.waitForFunction(tableFilled, shown, { timeout: 120_000 });
    const js = [...scripts.entries()].map(([url, body]) => ({ file: new URL(url).pathname, bytes: body.length, gzip_bytes: gzipSync(body).length }));
    const firstLoadGzip = js.reduce((a, f) => a + f.gzip_bytes, 0);
    log(`console: first load ${js.length} scripts, ${round(firstLoadGzip / 1000, 1)} kB gzipped`);

    const loadBefore = loadavg()[0];
    const admin: Timed[] = [];
    for (let i = 0; i < RUNS; i++) admin.push(await timeList(page, `${base}/#/admin/deployments`, shown));
    const loadAfter = loadavg()[0];
    const ms = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
    log(
      `console: all ${shown} rows in the table and interactive after ${ms(admin.map((t) => t.total))} ms (first rows at ${ms(admin.map((t) => t.firstRows))} ms; last API answer at ${ms(admin.map((t) => t.lastApiResponse))} ms; last row shown ${ms(admin.map((t) => t.scrollToEnd))} ms after a scroll to the end; load ${round(loadBefore, 1)} / ${round(loadAfter, 1)})`,
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The user signs in on their own list (the admin page stays in the URL otherwise).
    await page.goto(`${base}/#/deployments`);
    await page.getByLabel('API token').fill(user.apiToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(tableFilled, 25, { timeout: 60_000 });
    const own: number[] = [];
    for (let i = 0; i < RUNS; i++) own.push((await timeList(page, `${base}/#/deployments`, 25)).total);
    const med = (xs: number[]) => round(percentile(xs, 50), 0);
    const totals = admin.map((t) => t.total);
    log(`console: all ${shown} rows interactive after ${med(totals)} ms (median of ${RUNS}); a user's first page of 25 of ${N} after ${med(own)} ms`);
    return {
      deployments: N,
      deployments_in_table: total,
      rows_shown: shown,
      runs: RUNS,
      list_interactive_ms: med(totals),
      list_interactive_ms_runs: totals.map((x) => round(x, 0)),
      list_last_api_response_ms_runs: admin.map((t) => round(t.lastApiResponse, 0)),
      // Navigation → the admin table's first rows on screen.
      list_first_rows_ms: med(admin.map((t) => t.firstRows)),
      list_first_rows_ms_runs: admin.map((t) => round(t.firstRows, 0)),
      // The table's last row on screen after a scroll to the end (all 1,000 are in the table).
      list_scroll_to_end_ms: med(admin.map((t) => t.scrollToEnd)),
      list_page_elements: admin[admin.length - 1].elements,
      // 1-minute load average of the machine before and after the admin runs (2 cores, shared).
      list_load_1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
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
