/**
 * The serial bridge's section of the status page in real headless Chromium:
 * the real gateway (child process) configured with status.bridgeStatusUrl,
 * the real bridge in this process on a kernel PTY (socat) with a simulated
 * device. The section says the bridge is not running, then lists its port
 * and device, then says it stopped while keeping the last ports visible.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bridge } from '../../firmware-bridge/src/bridge.js';
import { PtyPair } from '../../firmware-bridge/src/pty.js';
import { SimulatedFirmware } from '../../firmware-bridge/src/simulated-firmware.js';
import { gatewayConfig, mqttUrl, startBridge } from '../integration/bridge-harness.js';
import { type GatewayProcess, startGateway } from '../support/gateway-process.js';
import { freePort } from '../support/ports.js';
import { artifacts, launchChromium, signIn, text } from './chromium.js';

let browser: Browser;
let gw: GatewayProcess;
let bridgePort: number;

beforeAll(async () => {
  bridgePort = await freePort();
  gw = await startGateway({
    ...gatewayConfig,
    status: { bridgeStatusUrl: `http://127.0.0.1:${bridgePort}/status` },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

describe('status page: serial bridge', () => {
  it('shows the bridge missing, then its port and device, then stopped', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await signIn(page, gw.statusPort, gw.token);
    await page.waitForSelector('#bridge:not([hidden])', { timeout: 10_000 });
    await page.waitForFunction(
      () => (document.getElementById('bridgeError')?.textContent ?? '').includes('the bridge is not running'),
      undefined,
      { timeout: 10_000 },
    );

    const pty = await PtyPair.open();
    let bridge: Bridge | null = null;
    let dev: SimulatedFirmware | null = null;
    try {
      bridge = await startBridge(mqttUrl(gw), [{ path: pty.hostPath }], {
        bridgeId: 'page-bridge',
        status: { port: bridgePort },
      });
      dev = new SimulatedFirmware({ path: pty.devicePath, deviceId: 'page-dev-1', ackTimeoutMs: 200 });
      await dev.open();
      expect((await dev.hello()).ok).toBe(true);
      // the page polls every 5 s and the gateway reuses a read for 2 s
      const row = `#bridgePorts tr[data-port="${pty.hostPath}"]`;
      await page.waitForFunction(
        (sel) => (document.querySelector(sel)?.textContent ?? '').includes('page-dev-1'),
        row,
        { timeout: 20_000 },
      );
      const cells = await page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent ?? ''));
      expect(cells[0]).toBe(pty.hostPath);
      expect(cells[1]).toBe('open');
      expect(cells[2]).toBe('115200');
      expect(cells[3]).toBe('page-dev-1');
      expect(await text(page, '#bridgeError')).toBe('');
      expect(await text(page, '#bridgeMeta')).toContain('page-bridge');
      await page.screenshot({ path: join(artifacts, 'status-bridge-up.png'), fullPage: true });
    } finally {
      await dev?.close();
      await bridge?.stop();
      await pty.close();
    }

    await page.waitForFunction(
      () => (document.getElementById('bridgeError')?.textContent ?? '').includes('not running'),
      undefined,
      { timeout: 20_000 },
    );
    // the last known port stays, marked stale
    expect(await text(page, `#bridgePorts tr[data-port="${pty.hostPath}"] td:nth-child(2)`)).toContain(
      '(stale)',
    );
    await page.screenshot({ path: join(artifacts, 'status-bridge-down.png'), fullPage: true });
    await page.close();
  });
});

// the functions given to waitForFunction run in the page; this is all of the DOM they use
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
};
