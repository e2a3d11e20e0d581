/**
 * Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (no browser
 * download, ever). Without it a test skips locally with a clear message, but in CI
 * (`CI=true`) it fails: a browser test must never skip silently there.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Absolute path of test/artifacts (screenshots and the like; git-ignored). Created on import. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts', import.meta.url));
mkdirSync(ARTIFACTS_DIR, { recursive: true });

export const NO_CHROMIUM = `${CHROMIUM_PATH} is missing: install Debian chromium (apt-get install -y chromium) to run browser tests`;

/** A headless chromium, or undefined (the caller then calls `ctx.skip(NO_CHROMIUM)`) when none is installed outside CI. */
export async function launchBrowser(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM_PATH)) {
    if (process.env.CI === 'true') throw new Error(`${NO_CHROMIUM} (CI=true: browser tests may not skip)`);
    return undefined;
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
