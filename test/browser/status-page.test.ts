/**
 * The status page in real headless Chromium (Debian's package, driven by
 * playwright-core): the login gate, live numbers while devices publish, and a
 * sink going down and coming back. Screenshots go to test-artifacts/.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { repoRoot } from '../support/paths.js';
import { freePort } from '../support/ports.js';

// the functions given to waitForFunction run in the page; this is all of the DOM they use
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

const artifacts = join(repoRoot, 'test-artifacts');
let browser: Browser;
let gw: GatewayProcess;
let upstreamPort: number;
let upstream: Server | null = null;

function startUpstream(): Promise<void> {
  return new Promise((resolve) => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    upstream.listen(upstreamPort, '127.0.0.1', () => resolve());
  });
}
function stopUpstream(): Promise<void> {
  return new Promise((resolve) => {
    upstream?.closeAllConnections();
    upstream?.close(() => resolve());
  });
}

beforeAll(async () => {
  upstreamPort = await freePort();
  await startUpstream();
  gw = await startGateway({
    sinks: {
      archive: { type: 'file' },
      api: {
        type: 'http',
        url: `http://127.0.0.1:${upstreamPort}/in`,
        retry: { initialDelay: 100, maxDelay: 300 },
        sendTimeout: '2s',
      },
    },
    routes: { a: { from: '#', to: 'archive' }, b: { from: 'devices/#', to: 'api' } },
  });
  browser = await chromium.launch({
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
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await stopUpstream();
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${gw.statusPort}/`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.textContent(selector)) ?? '';
}

describe('status page in Chromium', () => {
  it('asks for the token, refuses a wrong one and opens with the right one', async () => {
    const page = await browser.newPage();
    await signIn(page, 'not-the-token');
    expect(await text(page, '#error')).toContain('not right');
    await page.screenshot({ path: join(artifacts, 'status-login-refused.png') });
    await signIn(page, gw.token);
    await page.waitForFunction(() => document.getElementById('gateway')?.textContent === 'tidegate');
    await page.close();
  });

  it('shows live numbers that change while devices publish', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await signIn(page, gw.token);
    await page.waitForSelector('.card[data-sink=archive]');
    const clients = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
          clientId: `page-dev-${i}`,
          reconnectPeriod: 0,
        }),
      ),
    );
    await page.waitForFunction(() => document.getElementById('clients')?.textContent === '5');
    const sentBefore = await text(page, '.card[data-sink=archive] dl');
    const stop = Date.now() + 3000;
    while (Date.now() < stop) {
      await Promise.all(
        clients.map((c, i) =>
          c.publishAsync(`devices/page-dev-${i}/t`, JSON.stringify({ v: Date.now() }), { qos: 1 }),
        ),
      );
    }
    await page.waitForFunction(
      () => Number(document.getElementById('rateIn')?.textContent?.replace(/,/g, '')) > 0,
    );
    const sentAfter = await text(page, '.card[data-sink=archive] dl');
    expect(sentAfter).not.toBe(sentBefore);
    expect(await page.$$eval('#devices tr', (rows) => rows.map((r) => r.textContent))).toContain(
      'page-dev-3',
    );
    await page.fill('#search', 'dev-2');
    await page.waitForFunction(() => document.querySelectorAll('#devices tr').length === 1);
    await page.screenshot({ path: join(artifacts, 'status-live.png'), fullPage: true });
    await Promise.all(clients.map((c) => c.endAsync()));
    await page.close();
  });

  it('shows a sink going down, with the error and a warning, and coming back', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await signIn(page, gw.token);
    await page.waitForSelector('.card[data-sink=api] .state.up');
    await stopUpstream();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, {
      clientId: 'page-dev-x',
      reconnectPeriod: 0,
    });
    for (let i = 0; i < 20; i++) await c.publishAsync('devices/page-dev-x/t', String(i), { qos: 1 });
    await page.waitForSelector('.card[data-sink=api] .state.down', { timeout: 20_000 });
    expect(await text(page, '.card[data-sink=api] .lasterror')).toContain('cannot reach');
    expect(await text(page, '#warnings')).toContain('sink api is down');
    await page.screenshot({ path: join(artifacts, 'status-sink-down.png'), fullPage: true });
    await startUpstream();
    await page.waitForSelector('.card[data-sink=api] .state.up', { timeout: 20_000 });
    await page.waitForFunction(
      () => !document.getElementById('warnings')?.textContent?.includes('sink api is down'),
    );
    await page.screenshot({ path: join(artifacts, 'status-sink-back.png'), fullPage: true });
    await c.endAsync();
    await page.close();
  });
});
