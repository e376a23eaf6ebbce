// Drives Debian's Chromium (the `chromium` on PATH, installed by tests/install-test-dependencies.sh) with
// playwright-core for the C# tests, which keep the timing: one JSON command per line on stdin, one JSON answer per
// line on stdout ({id, ok, result} or {id, ok: false, error}). Every command has a timeout. When stdin closes (the
// test process ended) the browser is closed and the driver exits, so no Chromium outlives its test run.
import { createInterface } from 'node:readline';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

const defaultTimeoutMs = 10000;
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

let browser = null;
const pages = new Map(); // name -> { context, page, console: [] }

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not on PATH: run tests/install-test-dependencies.sh (as root)`);
}

function entry(name) {
  const found = pages.get(name);
  if (!found) throw new Error(`no page named ${name}`);
  return found;
}

const commands = {
  async launch({ executablePath }) {
    // Playwright gives every launch a fresh temporary profile (its own --user-data-dir) and removes it on close.
    browser = await chromium.launch({
      executablePath: executablePath || onPath('chromium'),
      headless: true,
      chromiumSandbox: false,
      args: flags,
      timeout: 30000,
    });
    return browser.version();
  },

  async newPage({ page: name, width = 1280, height = 900 }) {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.setDefaultTimeout(defaultTimeoutMs);
    const log = [];
    page.on('console', (message) => log.push({ type: message.type(), text: message.text(), url: message.location().url || '' }));
    page.on('pageerror', (error) => log.push({ type: 'pageerror', text: String(error && error.stack || error), url: '' }));
    pages.set(name, { context, page, console: log });
    return name;
  },

  async closePage({ page: name }) {
    const { context } = entry(name);
    pages.delete(name);
    await context.close();
  },

  async goto({ page, url, timeoutMs }) {
    const response = await entry(page).page.goto(url, { timeout: timeoutMs ?? defaultTimeoutMs, waitUntil: 'load' });
    return response ? response.status() : null;
  },

  async fill({ page, selector, value, timeoutMs }) {
    await entry(page).page.locator(selector).first().fill(value, { timeout: timeoutMs ?? defaultTimeoutMs });
  },

  async click({ page, selector, timeoutMs }) {
    await entry(page).page.locator(selector).first().click({ timeout: timeoutMs ?? defaultTimeoutMs });
  },

  async select({ page, selector, value, timeoutMs }) {
    await entry(page).page.locator(selector).first().selectOption(value, { timeout: timeoutMs ?? defaultTimeoutMs });
  },

  /** Waits until an element matching selector (and containing text, when given) is in the state (default visible). */
  async waitFor({ page, selector, text, state, timeoutMs }) {
    const locator = entry(page).page.locator(selector, text ? { hasText: text } : undefined).first();
    await locator.waitFor({ state: state ?? 'visible', timeout: timeoutMs ?? defaultTimeoutMs });
  },

  /**
   * Waits until a JavaScript expression evaluated in the page is truthy. Polls page.evaluate (DevTools evaluation,
   * which the page's CSP allows) rather than page.waitForFunction, which compiles the text in the page: eval, refused
   * by a CSP without 'unsafe-eval'.
   */
  async waitForFunction({ page, expression, timeoutMs }) {
    const { page: target } = entry(page);
    const deadline = Date.now() + (timeoutMs ?? defaultTimeoutMs);
    let last;
    while (Date.now() < deadline) {
      last = await target.evaluate(expression);
      if (last) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out after ${timeoutMs ?? defaultTimeoutMs} ms waiting for ${expression} (last value: ${JSON.stringify(last)})`);
  },

  async text({ page, selector, timeoutMs }) {
    return entry(page).page.locator(selector).first().innerText({ timeout: timeoutMs ?? defaultTimeoutMs });
  },

  async evaluate({ page, expression }) {
    return entry(page).page.evaluate(expression);
  },

  async viewport({ page, width, height }) {
    await entry(page).page.setViewportSize({ width, height });
  },

  async screenshot({ page, path, fullPage }) {
    await entry(page).page.screenshot({ path, fullPage: fullPage ?? true, timeout: defaultTimeoutMs });
    return path;
  },

  async console({ page }) {
    return entry(page).console;
  },

  async close() {
    await shutdown();
  },
};

async function shutdown() {
  const closing = browser;
  browser = null;
  if (closing) await closing.close().catch(() => {});
}

function reply(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', async (line) => {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    reply({ id: null, ok: false, error: `not JSON: ${error.message}` });
    return;
  }
  const command = commands[request.cmd];
  if (!command) {
    reply({ id: request.id, ok: false, error: `unknown command ${request.cmd}` });
    return;
  }
  try {
    const result = await command(request);
    reply({ id: request.id, ok: true, result: result ?? null });
  } catch (error) {
    reply({ id: request.id, ok: false, error: String(error && error.message || error) });
  }
});
lines.on('close', async () => {
  await shutdown();
  process.exit(0);
});
