import fs from 'node:fs/promises';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium package; we use it instead of Playwright's downloaded browsers so tests need no network. */
const CHROMIUM_PATH = '/usr/bin/chromium';
/** Cold start of Debian Chromium is ~1 s; generous for loaded CI hosts. */
const CHROMIUM_LAUNCH_TIMEOUT_MS = 60_000;

/**
 * Flags on top of what Playwright already passes. With `headless: true` and
 * the default `chromiumSandbox: false`, Playwright itself adds `--headless`
 * and `--no-sandbox` (plus --disable-background-networking,
 * --disable-component-update and --no-first-run among its defaults); we
 * request those through the options rather than repeating the switches, so
 * Playwright's own handling of headless mode stays in charge.
 */
const EXTRA_CHROMIUM_ARGS: readonly string[] = [
  // No GPU in CI containers; software rendering avoids GPU-process crash loops.
  '--disable-gpu',
  '--disable-sync',
  // Tests talk to local plain-HTTP/WebSocket servers; QUIC only adds background noise.
  '--disable-quic',
];

export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  try {
    await fs.access(CHROMIUM_PATH, fs.constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Browser tests use the Debian package, not Playwright's download: ` +
        'run `apt-get install chromium` (as root) or `scripts/ensure-system-deps.sh`.',
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: [...EXTRA_CHROMIUM_ARGS, ...extraArgs],
    timeout: CHROMIUM_LAUNCH_TIMEOUT_MS,
  });
}

/** Signs in through the real login form and waits for the redirect to `nextPath`. */
export async function signInThroughForm(page: Page, baseUrl: string, user: { readonly email: string; readonly password: string }, nextPath: string): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(nextPath)}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}${nextPath}`);
}

/**
 * Blocks third-party cookies, as Safari and Firefox do and Chrome does for more and more users:
 * Chromium's switch for testing the third-party cookie phase-out. Embedding tests run with it and
 * prove it took effect (test/e2e/embed.test.ts).
 */
export const BLOCK_THIRD_PARTY_COOKIES_ARG = '--test-third-party-cookie-phaseout';

export interface SignedInPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors so far (bar those `ignoreConsole` matches). */
  readonly errors: string[];
}

export interface SignedInPageOptions {
  readonly viewport: { readonly width: number; readonly height: number };
  /** Bounds every wait of the page. */
  readonly timeoutMs: number;
  /** Console errors expected in the scenario (a network the test cut). */
  readonly ignoreConsole?: RegExp;
}

/** The page's scrollable width against its visible width: wider means the page scrolls sideways. */
export async function pageWidths(page: Page): Promise<{ readonly scrollWidth: number; readonly clientWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.scrollingElement?.scrollWidth ?? 0, clientWidth: document.scrollingElement?.clientWidth ?? 0 }));
}

/**
 * The page's uncaught errors and console errors from now on (CSP violations are console errors),
 * bar those `ignoreConsole` matches: e2e tests expect the list to stay empty.
 */
export function recordPageErrors(page: Page, ignoreConsole?: RegExp): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !(ignoreConsole?.test(message.text()) ?? false)) errors.push(message.text());
  });
  return errors;
}

/** A page in a context of its own, signed in as `user` through the form and left at `path`. */
export async function openSignedInPage(browser: Browser, baseUrl: string, user: { readonly email: string; readonly password: string }, path: string, options: SignedInPageOptions): Promise<SignedInPage> {
  const context = await browser.newContext({ viewport: options.viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(options.timeoutMs);
  const errors = recordPageErrors(page, options.ignoreConsole);
  await signInThroughForm(page, baseUrl, user, path);
  return { context, page, errors };
}
