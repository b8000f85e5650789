import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import { RunningApp, startApp } from 'test/browser/app-process';

/**
 * A new user's first ten minutes, in a real browser: `npm start` on the embedded database, Swagger UI at /api/docs,
 * Authorize with a demo token, "Try it out" on the patient list and on one patient. Needs Chromium (Debian's
 * `chromium` package; CHROMIUM_PATH names another binary). Run with `npm run test:browser`; `npm test` skips it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = resolve(__dirname, '../../test-results');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Chromium's own features that reach the network or keep state; the page under test needs none of them.
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Swagger UI's block of one operation, found by method and path as the document names them. */
function operation(page: Page, method: string, path: string): Locator {
  return page.locator(`.opblock-${method}`).filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
}

/**
 * Expands the operation, presses "Try it out", fills the parameters, executes, and returns the rendered result;
 * saves the window scrolled to the request URL and the server's response as `screenshot`.
 */
async function tryItOut(op: Locator, params: Record<string, string>, screenshot: string): Promise<{ status: string; body: unknown }> {
  await op.locator('.opblock-summary').first().click();
  await op.getByRole('button', { name: 'Try it out' }).click();
  for (const [name, value] of Object.entries(params)) {
    await op.locator(`tr[data-param-name="${name}"] input`).fill(value);
  }
  await op.getByRole('button', { name: 'Execute' }).click();
  const response = op.locator('.live-responses-table tbody .response');
  await response.first().waitFor({ timeout: 30000 });
  const status = (await response.locator('.response-col_status').first().innerText()).trim();
  const text = await response.locator('.response-col_description pre').first().innerText();
  await op.locator('.request-url').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await op.page().screenshot({ path: screenshot });
  return { status, body: JSON.parse(text) };
}

describe('Swagger UI in a real browser', () => {
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it (Debian or Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary`,
      );
    }
    mkdirSync(RESULTS, { recursive: true });
    for (const old of readdirSync(RESULTS).filter((f) => f.startsWith('swagger-ui'))) rmSync(join(RESULTS, old));
    app = await startApp(join(RESULTS, 'swagger-ui-app.log'), 240000);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15000);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** On failure, what the page showed: test-results/swagger-ui-failure.png. */
  async function withFailureScreenshot(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (e) {
      await page.screenshot({ path: join(RESULTS, 'swagger-ui-failure.png'), fullPage: true }).catch(() => undefined);
      throw e;
    }
  }

  it('authorizes with a demo token and shows the patient list and one patient, both 200', async () => {
    const token = app!.token('demo', 'admin');
    const me = await fetch(`${app!.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const { memberships } = (await me.json()) as { memberships: Array<{ organization_id: string }> };
    const organizationId = memberships[0].organization_id;
    expect(organizationId).toMatch(UUID);

    await withFailureScreenshot(async () => {
      await page.goto(`${app!.baseUrl}/api/docs`);
      await expect(page.locator('.swagger-ui .info .title').innerText()).resolves.toContain('Patient journey API');

      await page.locator('.auth-wrapper').getByRole('button', { name: 'Authorize' }).click();
      const dialog = page.locator('.dialog-ux');
      await dialog.getByLabel('auth-bearer-value').fill(token);
      await dialog.getByRole('button', { name: 'Apply credentials' }).click();
      await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
      await dialog.locator('button.btn-done').click();

      const list = await tryItOut(
        operation(page, 'get', '/api/v1/patients/{organizationId}/profiles'),
        { organizationId, limit: '5' },
        join(RESULTS, 'swagger-ui-profiles.png'),
      );
      expect(list.status).toBe('200');
      const { patients } = list.body as { patients: Array<{ id: string }> };
      // Ids only in assertions: a failure message must not print the (generated) patients' names and contacts.
      const ids = patients.map((p) => p.id);
      expect(ids).toHaveLength(5);
      for (const id of ids) expect(id).toMatch(UUID);

      const one = await tryItOut(
        operation(page, 'get', '/api/v1/patients/{organizationId}/profile/{patientId}'),
        {
          organizationId,
          patientId: ids[0],
        },
        join(RESULTS, 'swagger-ui-profile.png'),
      );
      expect(one.status).toBe('200');
      expect((one.body as { patient: { id: string } }).patient.id).toBe(ids[0]);

      await page.screenshot({ path: join(RESULTS, 'swagger-ui.png'), fullPage: true });
    });
  });
});
