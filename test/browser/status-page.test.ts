/**
 * The status page in real headless Chromium (Debian's package, driven by
 * playwright-core): the login gate, live numbers while devices publish, a sink
 * going down and coming back, admin actions from the page, and a cross-site
 * form that must not act. Screenshots go to test-artifacts/.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { freePort } from '../support/ports.js';
import { artifacts, launchChromium, num, signIn, text } from './chromium.js';

// the functions given to waitForFunction run in the page; this is all of the DOM they use
declare const document: {
  cookie: string;
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

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
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await stopUpstream();
});

const url = () => `http://127.0.0.1:${gw.statusPort}`;
const connect = (clientId: string) =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId, reconnectPeriod: 0 });

describe('status page in Chromium', () => {
  it('asks for the token, refuses a wrong one, and opens with the right one in an HttpOnly cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url()}/`);
    expect(await page.isVisible('input[name=token]')).toBe(true);
    expect(await page.evaluate(async () => (await fetch('/api/status')).status)).toBe(401);
    await signIn(page, gw.statusPort, 'not-the-token');
    expect(await text(page, '#error')).toContain('not right');
    await page.screenshot({ path: join(artifacts, 'status-login-refused.png') });
    await signIn(page, gw.statusPort, gw.token);
    await page.waitForFunction(() => document.getElementById('gateway')?.textContent === 'tidegate');
    // the page's scripts cannot read the token, and other sites' requests do not carry it
    expect(await page.evaluate(() => document.cookie)).not.toContain('tidegate_token');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'tidegate_token', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(async () => (await fetch('/api/status')).status)).toBe(200);
    await page.screenshot({ path: join(artifacts, 'status-signed-in.png'), fullPage: true });
    await context.close();
  });

  it('shows live numbers, the chart and the device table changing while devices publish', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    await signIn(page, gw.statusPort, gw.token);
    await page.waitForSelector('.card[data-sink=archive]');
    const clients = await Promise.all(Array.from({ length: 5 }, (_, i) => connect(`page-dev-${i}`)));
    await page.waitForFunction(() => document.getElementById('clients')?.textContent === '5');
    const sentBefore = await text(page, '.card[data-sink=archive] dl');
    const rates = new Set<string>();
    const stop = Date.now() + 3500;
    while (Date.now() < stop) {
      await Promise.all(
        clients.map((c, i) =>
          c.publishAsync(`devices/page-dev-${i}/t`, JSON.stringify({ v: Date.now() }), { qos: 1 }),
        ),
      );
      rates.add(await text(page, '#rateIn'));
    }
    await page.waitForFunction(
      () => Number(document.getElementById('rateIn')?.textContent?.replace(/,/g, '')) > 0,
    );
    expect(rates.size).toBeGreaterThan(1);
    expect(await text(page, '.card[data-sink=archive] dl')).not.toBe(sentBefore);
    // the chart has points (uPlot's data, one column per second)
    await page.waitForFunction('chart !== null && chart.data[0].length >= 3');
    const row = await page.$$eval('#devices tr', (rows) =>
      rows.map((r) => {
        const cells = (
          r as { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }
        ).querySelectorAll('td');
        return Array.from(cells, (td) => td.textContent ?? '');
      }),
    );
    const dev3 = row.find((r) => r[0] === 'page-dev-3')!;
    expect(dev3[1]).toBe('yes');
    expect(num(dev3[3]!)).toBeGreaterThan(0);
    await page.fill('#search', 'dev-2');
    await page.waitForFunction(() => document.querySelectorAll('#devices tr').length === 1);
    await page.screenshot({ path: join(artifacts, 'status-live.png'), fullPage: true });
    await Promise.all(clients.map((c) => c.endAsync()));
    // disconnects show up too
    await page.waitForFunction(() => document.getElementById('clients')?.textContent === '0');
    await page.waitForSelector('#devices td.no');
    await page.close();
  });

  it('shows a sink going down, with the error and a warning, and coming back', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    await signIn(page, gw.statusPort, gw.token);
    await page.waitForSelector('.card[data-sink=api] .state.up');
    await stopUpstream();
    const c = await connect('page-dev-x');
    for (let i = 0; i < 20; i++) await c.publishAsync('devices/page-dev-x/t', String(i), { qos: 1 });
    await page.waitForSelector('.card[data-sink=api] .state.down', { timeout: 20_000 });
    expect(await text(page, '.card[data-sink=api] .lasterror')).toContain('cannot reach');
    expect(await text(page, '#warnings')).toContain('sink api is down');
    expect(await page.isVisible('.card[data-sink=api].alarm')).toBe(true);
    await page.screenshot({ path: join(artifacts, 'status-sink-down.png'), fullPage: true });
    await startUpstream();
    await page.waitForSelector('.card[data-sink=api] .state.up', { timeout: 20_000 });
    await page.waitForFunction(
      () => !document.getElementById('warnings')?.textContent?.includes('sink api is down'),
    );
    await page.waitForFunction(() =>
      /^0 msgs/.test(document.querySelector('.card[data-sink=api] dd[data-k=backlog]')?.textContent ?? ''),
    );
    await page.screenshot({ path: join(artifacts, 'status-sink-back.png'), fullPage: true });
    await c.endAsync();
    await page.close();
  });

  it('pauses and resumes a sink from its card, and the backlog follows', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    await signIn(page, gw.statusPort, gw.token);
    await page.waitForSelector('.card[data-sink=archive] .state.up');
    await page.click('.card[data-sink=archive] button.action');
    await page.waitForSelector('.card[data-sink=archive] .state.paused');
    expect(await text(page, '#notice')).toContain('paused');
    const c = await connect('page-dev-pause');
    for (let i = 0; i < 20; i++) await c.publishAsync('plain/t', String(i), { qos: 1 });
    await c.endAsync();
    await page.waitForFunction(() =>
      /^20 msgs/.test(
        document.querySelector('.card[data-sink=archive] dd[data-k=backlog]')?.textContent ?? '',
      ),
    );
    await page.screenshot({ path: join(artifacts, 'status-sink-paused.png'), fullPage: true });
    expect(await text(page, '.card[data-sink=archive] button.action')).toBe('resume');
    await page.click('.card[data-sink=archive] button.action');
    await page.waitForSelector('.card[data-sink=archive] .state.up', { timeout: 10_000 });
    await page.waitForFunction(() =>
      /^0 msgs/.test(
        document.querySelector('.card[data-sink=archive] dd[data-k=backlog]')?.textContent ?? '',
      ),
    );
    await page.close();
  });

  it('does not act on a form posted from another site, even with the cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, gw.statusPort, gw.token);
    await page.waitForSelector('.card[data-sink=archive] .state.up');
    // another origin (other port) serving a classic CSRF form aimed at the admin action
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<form id=f method=post action="${url()}/api/sinks/archive/pause"></form><script>f.submit()</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    const port = (evil.address() as { port: number }).port;
    const attack = await context.newPage();
    const answer = attack.waitForResponse((r) => r.url().endsWith('/api/sinks/archive/pause'));
    await attack.goto(`http://127.0.0.1:${port}/`);
    expect((await answer).status()).toBe(403);
    const status = (await (
      await fetch(`${url()}/api/status`, { headers: { authorization: `Bearer ${gw.token}` } })
    ).json()) as { sinks: Array<{ name: string; state: string }> };
    expect(status.sinks.find((s) => s.name === 'archive')?.state).toBe('up');
    evil.close();
    await context.close();
  });
});
