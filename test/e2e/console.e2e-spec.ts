/**
 * The web console in a real Chromium (Debian's package, driven by playwright-core) against the
 * real API and worker on the local stack: sign-in, the schema form, live status, the event
 * timeline, delete, and the admin pages (publish, upgrade preview and upgrade, users).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { BrowserContext, chromium, Locator, Page } from 'playwright-core';
import { bearer, uniqueName } from '../support/api';
import { CHROMIUM_ARGS, ensureChromium } from '../support/chromium';
import { createUser, E2eSuite, REPO_ROOT, seedCatalog, startSuite, TestUser, uniqueDomain } from '../support/e2e';
import { exampleChart, startWorker, waitForStatus } from '../support/lifecycle';

const SECRET = 'Chromium-s3cret-pw';
const SHOTS = process.env.CAELUS_SCREENSHOT_DIR ?? join(REPO_ROOT, 'dist', 'console-screenshots');
const READY_MS = 240_000;

/** Retries a jest assertion until it holds (playwright-core has no web-first assertions). */
async function eventually(assertion: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const visible = (l: Locator, timeout = 30_000) => l.waitFor({ state: 'visible', timeout });
const hasText = (l: Locator, text: string, timeout?: number) => eventually(async () => expect(await l.textContent()).toContain(text), timeout);
const hasValue = (l: Locator, value: string) => eventually(async () => expect(await l.inputValue()).toBe(value));
const hasAttr = (l: Locator, name: string, value: string, timeout?: number) => eventually(async () => expect(await l.getAttribute(name)).toBe(value), timeout);
const isDisabled = (l: Locator, disabled: boolean) => eventually(async () => expect(await l.isDisabled()).toBe(disabled));
const hasCount = (l: Locator, n: number) => eventually(async () => expect(await l.count()).toBe(n));

/** Builds the console the API serves (dist/console), so the run tests the current sources. */
function buildConsole(): void {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'apps/console/vite.config.mts'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the console build failed (${r.error?.message ?? `exit ${r.status}`})`);
}

describe('web console in Chromium (e2e)', () => {
  let suite: E2eSuite;
  let worker: INestApplicationContext;
  let context: BrowserContext;
  let profile: string;
  let base: string;
  let productName: string;
  let productId: string;
  let user: TestUser;
  /** Errors the browser reported, by page: JavaScript errors, CSP refusals, console.error. */
  const browserErrors: string[] = [];
  /** Failed requests the tests provoke on purpose (a wrong token, a bad domain name). */
  const expectedFailures = new Set<number>();

  async function newPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (err) => browserErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const status = /status of (\d{3})/.exec(msg.text());
      if (status && expectedFailures.has(Number(status[1]))) return;
      browserErrors.push(`console.error: ${msg.text()}`);
    });
    return page;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('button', { name: 'Sign out' }));
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    const executablePath = ensureChromium();
    buildConsole();
    mkdirSync(SHOTS, { recursive: true });
    suite = await startSuite({ CAELUS_DRIFT_INTERVAL: '5', CAELUS_HELM_TIMEOUT: '120' });
    worker = await startWorker();
    base = `http://127.0.0.1:${(suite.api.app.getHttpServer().address() as AddressInfo).port}`;
    const catalog = await seedCatalog(suite.api, 'console', { '1.0.0': '1.0.0' });
    productName = catalog.productName;
    productId = catalog.productId;
    user = await createUser(suite.api, 'console-user');
    profile = mkdtempSync(join(tmpdir(), 'caelus-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 860 },
    });
    context.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await worker?.close();
    await suite?.close();
  });

  it('is served by the API at / with long-lived caching for hashed assets, next to the REST routes', async () => {
    const index = await suite.api.http.get('/').expect(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)![1];
    const js = await suite.api.http.get(asset).expect(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // Nothing inline: the CSP allows scripts from the origin only.
    expect(index.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    await suite.api.http.get('/health/live').expect(200);
    await suite.api.http.get('/users').expect(401);
    await suite.api.http.get(`/users/${user.id}/deployments`).set(bearer(user.token)).expect(200);
    await suite.api.http.get('/docs-json').expect(200);
  });

  it('signs a user in, creates a deployment through the schema form, sees it become ready, edits a value, sees the event and deletes it', async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    expectedFailures.add(401);
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByText('That token was not accepted'));
    await shot(page, 'sign-in');

    await page.getByLabel('API token').fill(user.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('heading', { name: 'My deployments' }));
    await visible(page.getByText('No deployments yet.'));
    expect(await page.evaluate(() => sessionStorage.getItem('caelus.apiToken'))).toBe(user.token);
    expect(page.url()).not.toContain(user.token);
    expect(await page.evaluate('localStorage.length + document.cookie.length')).toBe(0);

    // Create through the form generated from the template's schema.
    await page.getByRole('link', { name: 'New deployment' }).first().click();
    await visible(page.getByRole('heading', { name: 'New deployment' }));
    await hasValue(page.getByLabel('Product'), productId);
    const title = page.getByLabel('title', { exact: true });
    await hasValue(title, 'My web app');
    await visible(page.getByLabel('theme', { exact: true }));
    const password = page.getByLabel('adminPassword', { exact: true });
    expect(await password.getAttribute('type')).toBe('password');
    await title.fill('Hello from Chromium');
    await password.fill(SECRET);
    // The API's 400 field error lands next to its field.
    expectedFailures.add(400);
    await page.getByLabel('Domain name').fill('Not A Host!');
    await page.getByRole('button', { name: 'Create deployment' }).click();
    await hasText(page.locator('#domain-name-error'), 'fully qualified host name');
    await shot(page, 'new-deployment');
    const domain = uniqueDomain('console');
    await page.getByLabel('Domain name').fill(domain);
    await page.getByRole('button', { name: 'Create deployment' }).click();

    // The deployment page follows the workflow live.
    await visible(page.getByRole('heading', { name: domain }));
    await hasAttr(page.locator('.page-head .badge'), 'data-status', 'ready', READY_MS);
    await visible(page.getByText('1 applied / 1 desired'));
    const values = page.getByLabel('Values (secrets redacted)');
    await hasText(values, '"adminPassword": "[redacted]"');
    await hasText(values, 'Hello from Chromium');
    expect(await page.content()).not.toContain(SECRET);
    await visible(page.locator('[data-event-type="created"]'));
    await visible(page.locator('[data-event-type="applied"]').first());
    const temporalLink = page.getByRole('link', { name: /in the Temporal Web UI/ });
    expect(await temporalLink.getAttribute('href')).toMatch(/\/namespaces\/[^/]+\/workflows\//);
    await shot(page, 'deployment');

    // Edit a value: a new generation, applied, and its event in the timeline.
    await page.getByRole('button', { name: 'Edit values' }).click();
    const editTitle = page.getByLabel('title', { exact: true });
    await hasValue(editTitle, 'Hello from Chromium');
    await hasValue(page.getByLabel('adminPassword', { exact: true }), '[redacted]');
    await editTitle.fill('Changed in Chromium');
    await page.getByRole('button', { name: 'Save values' }).click();
    await visible(page.locator('[data-event-type="values-updated"]'));
    await visible(page.getByText('2 applied / 2 desired'), READY_MS);
    await hasAttr(page.locator('.page-head .badge'), 'data-status', 'ready');
    await hasText(page.getByLabel('Values (secrets redacted)'), 'Changed in Chromium');
    const stored = await suite.api.http.get(`/users/${user.id}/deployments`).set(bearer(user.token)).expect(200);
    expect(stored.body.items[0]).toMatchObject({ domainName: domain, generation: 2, values: { title: 'Changed in Chromium', adminPassword: '[redacted]' } });

    // The list shows it with its badge, product and template version.
    await page.getByRole('link', { name: 'My deployments' }).click();
    const row = page.locator('tr', { has: page.getByRole('link', { name: domain }) });
    await hasAttr(row.locator('.badge'), 'data-status', 'ready');
    await hasText(row, productName);
    await hasText(row, '1.0.0');
    await hasText(row, '2 / 2');
    await page.getByLabel('Status').selectOption('error');
    await visible(page.getByText('No deployment is error.'));
    await page.getByLabel('Status').selectOption('ready');
    await visible(row);
    await shot(page, 'deployments');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'deployments-phone');
    await page.setViewportSize({ width: 1280, height: 860 });

    // Delete only after typing the domain name.
    await page.getByRole('link', { name: domain }).click();
    await page.getByRole('button', { name: 'Delete this deployment…' }).click();
    const confirm = page.getByRole('button', { name: `Delete ${domain}` });
    await isDisabled(confirm, true);
    await page.getByLabel('Domain name').fill(domain.slice(0, -1));
    await isDisabled(confirm, true);
    await page.getByLabel('Domain name').fill(domain);
    await confirm.click();
    await visible(page.locator('[data-event-type="delete-requested"]'));
    // The page follows the deletion to its end: release and namespace gone, status deleted.
    await waitForStatus(suite.api, user.id, stored.body.items[0].id, (x) => x.status === 'deleted', READY_MS);
    await hasAttr(page.locator('.page-head .badge'), 'data-status', 'deleted', 30_000);
    await visible(page.locator('[data-event-type="deleted"]'));
    await visible(page.getByText('This deployment has been deleted'));

    // Sign out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByLabel('API token'));
    expect(await page.evaluate(() => sessionStorage.getItem('caelus.apiToken'))).toBeNull();
    await page.close();
  });

  it('brings the sign-in back with a message when the API stops accepting the token', async () => {
    const doomed = await createUser(suite.api, 'console-doomed');
    const page = await newPage();
    await signIn(page, doomed.token);
    await suite.api.http.delete(`/users/${doomed.id}`).set(bearer(suite.api.adminToken)).expect(204);
    // Any request now gets a 401: changing the filter makes one, unless a request the page was
    // still making (its catalogue) already met the 401 and signed out.
    await page
      .getByLabel('Status')
      .selectOption('ready', { timeout: 5_000 })
      .catch(() => undefined);
    await visible(page.getByText('You have been signed out: the API no longer accepts this token'));
    await visible(page.getByLabel('API token'));
    expect(await page.evaluate(() => sessionStorage.getItem('caelus.apiToken'))).toBeNull();
    await page.close();
  });

  it('lets an admin publish a template, preview an upgrade with its diff, and upgrade', async () => {
    // A deployment on 1.0.0 to upgrade, made through the API while the admin publishes 1.1.0.
    const created = await suite.api.http
      .post(`/users/${user.id}/deployments`)
      .set(bearer(user.token))
      .send({
        templateId: (await suite.api.http.get(`/products/${productId}/templates`).set(bearer(user.token))).body.items[0].id,
        domainName: uniqueDomain('upgrade'),
        values: { title: 'Before', adminPassword: SECRET },
      })
      .expect(202);
    const d = created.body;

    const page = await newPage();
    await signIn(page, suite.api.adminToken);
    await visible(page.getByRole('heading', { name: 'All deployments' }));
    await page.getByRole('link', { name: 'Products' }).click();
    await page.getByRole('link', { name: productName }).click();
    await visible(page.getByRole('heading', { name: `Product ${productName}` }));

    const chart = exampleChart('1.1.0');
    await page.getByLabel('Version', { exact: true }).fill('1.1.0');
    await page.getByLabel('Chart reference').fill(chart.chartRef);
    await page.getByLabel('Chart version').fill('1.1.0');
    // The editors check their documents before anything is sent.
    const defaults = page.getByLabel('Default values', { exact: true });
    await defaults.fill('replicas: [1');
    await hasText(page.locator('#t-defaults-status'), 'not valid YAML');
    await isDisabled(page.getByRole('button', { name: 'Publish template version' }), true);
    await defaults.fill(readFileSync(join(chart.chartRef, 'values.yaml'), 'utf8'));
    const schema = page.getByLabel('Values schema', { exact: true });
    await schema.fill('{"type": "object",');
    await hasText(page.locator('#t-schema-status'), 'not valid JSON');
    await schema.fill(JSON.stringify(chart.valuesSchema, null, 2));
    await hasText(page.locator('#t-schema-status'), 'Valid JSON');
    await hasText(page.locator('#t-defaults-status'), 'Valid YAML');
    await shot(page, 'admin-publish');
    await page.getByRole('button', { name: 'Publish template version' }).click();
    await visible(page.getByText('Version 1.1.0 is published.'));
    await visible(page.getByRole('cell', { name: '1.1.0', exact: true }));
    const templates = (await suite.api.http.get(`/products/${productId}/templates`).set(bearer(user.token)).expect(200)).body.items;
    const published = templates.find((t: { version: string }) => t.version === '1.1.0');
    expect(published).toMatchObject({ chartRef: chart.chartRef, chartVersion: '1.1.0', defaultValues: chart.defaultValues, valuesSchema: chart.valuesSchema });

    await waitForStatus(suite.api, user.id, d.id, (x) => x.status === 'ready' && x.observedGeneration === 1, READY_MS);
    await page.getByRole('link', { name: 'All deployments' }).click();
    await visible(page.getByRole('region', { name: 'Deployments' }).getByRole('link', { name: d.domainName }));
    await hasText(page.getByRole('region', { name: 'By template version' }), `${productName} 1.0.0`);
    await hasText(page.getByRole('region', { name: 'By status' }), 'ready');
    await shot(page, 'admin-deployments');

    await page.getByRole('link', { name: d.domainName }).click();
    await hasValue(page.getByLabel('Target template version'), published.id);
    await page.getByRole('button', { name: 'Preview upgrade' }).click();
    const preview = page.locator('.preview');
    await hasText(preview, 'Valid');
    await visible(preview.locator('.diff-add', { hasText: 'motd: Welcome!' }));
    expect(await preview.textContent()).not.toContain(SECRET);
    await shot(page, 'upgrade-preview');
    // The preview changed nothing.
    expect((await suite.api.http.get(`/users/${user.id}/deployments/${d.id}`).set(bearer(suite.api.adminToken))).body).toMatchObject({ desiredTemplateId: d.desiredTemplateId, generation: 1 });
    await page.getByRole('button', { name: 'Upgrade to 1.1.0' }).click();
    await visible(page.getByText('Upgrade to 1.1.0 requested.'));
    await visible(page.getByText('1.1.0 desired, 1.1.0 applied'), READY_MS);
    await hasAttr(page.locator('.page-head .badge'), 'data-status', 'ready', READY_MS);
    await visible(page.locator('[data-event-type="upgrade-requested"]'));
    expect((await suite.api.http.get(`/users/${user.id}/deployments/${d.id}`).set(bearer(suite.api.adminToken))).body).toMatchObject({ appliedTemplateId: published.id, status: 'ready' });
    await shot(page, 'deployment-upgraded');

    // Users: a new user's token is shown once, with a copy button, and works.
    await page.getByRole('link', { name: 'Users' }).click();
    const email = `${uniqueName('console-new')}@example.com`;
    await page.getByLabel('E-mail').fill(email);
    await page.getByRole('button', { name: 'Create user' }).click();
    const token = await page.getByLabel(`API token of ${email}`).inputValue();
    await visible(page.getByRole('button', { name: 'Copy' }));
    await shot(page, 'admin-users');
    expect((await suite.api.http.get('/session').set(bearer(token)).expect(200)).body).toMatchObject({ email, isAdmin: false });
    await page.getByRole('button', { name: 'Done' }).click();
    const userRow = page.locator('tr', { hasText: email });
    await userRow.getByRole('button', { name: 'Delete' }).click();
    await userRow.getByRole('button', { name: `Really delete ${email}` }).click();
    await hasCount(page.locator('tr', { hasText: email }), 0);
    await suite.api.http.get('/session').set(bearer(token)).expect(401);
    await page.close();
  });

  it('shows a non-admin no admin pages, and the API refuses them too (signing in with the keyboard only)', async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    // The token field has the focus; Enter signs in; the page's heading takes the focus.
    expect(await page.evaluate('document.activeElement.id')).toBe('api-token');
    await page.keyboard.type(user.token);
    await page.keyboard.press('Enter');
    await visible(page.getByRole('heading', { name: 'My deployments' }));
    await eventually(async () => expect(await page.evaluate('document.activeElement.tagName')).toBe('H1'));
    const nav = page.getByRole('navigation', { name: 'Main' });
    await visible(nav.getByRole('link', { name: 'My deployments' }));
    for (const name of ['Users', 'Products', 'All deployments']) await hasCount(nav.getByRole('link', { name }), 0);
    await page.goto(`${base}/#/admin/users`);
    await visible(page.getByText('This page is for admins only.'));
    await hasCount(page.getByRole('table'), 0);
    await suite.api.http.get('/users').set(bearer(user.token)).expect(403);
    await suite.api.http
      .post('/products')
      .set(bearer(user.token))
      .send({ name: uniqueName('nope') })
      .expect(403);
    await page.close();
  });

  it('logged no error in the browser console on any page', () => {
    expect(browserErrors).toEqual([]);
  });
});
