/**
 * A real browser for the console's tests: Debian's Chromium, headless, driven by Playwright. A machine
 * without it gets it from apt-get (as root, which CI is), so a fresh clone passes with the README's commands.
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-q'], { env });
  await execa('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'chromium'], { env });
}

export async function launchBrowser(): Promise<Browser> {
  await ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
