/**
 * Shared by the browser tests: Debian's Chromium driven by playwright-core
 * (no browser download), and the login form as an operator would use it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from '../support/paths.js';

export const artifacts = join(repoRoot, 'test-artifacts');

export function launchChromium(): Promise<Browser> {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export async function signIn(page: Page, statusPort: number, token: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${statusPort}/`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
}

export async function text(page: Page, selector: string): Promise<string> {
  return (await page.textContent(selector)) ?? '';
}

/** Reads a number the page shows ("1,234.5" -> 1234.5). */
export function num(s: string): number {
  return Number(s.replace(/,/g, ''));
}
