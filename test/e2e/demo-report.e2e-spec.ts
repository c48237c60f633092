import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { testDir } from '../support/shared-stack';

const run = promisify(execFile);

/** The little of the browser's DOM these checks touch (the project compiles without the DOM lib). */
interface Canvas {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
type BrowserGlobal = { document: { body: { dataset: Record<string, string | undefined> } } };
/** Debian's chromium (installed by .ci/run when missing). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * `npm run demo` writes report.html: a small real sale (its own stack), then the page rendered in
 * headless Chromium — every chart drew (non-blank canvas pixels), the invariants table says PASS —
 * with a PNG screenshot kept beside the report.
 */
describe('npm run demo: the HTML sale report, checked in a real browser', () => {
  it('draws every chart and shows the invariants as PASS', async () => {
    const dir = testDir('demo-report');
    const report = join(dir, 'report.html');
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, '../../scripts/demo.ts'),
        ...['--users', '300', '--per-user', '2', '--stock', '50', '--connections', '20', '--replicas', '2'],
        ...['--pay-ratio', '0.7'],
        ...['--report', report],
      ],
      { timeout: 150_000, env: { ...process.env } },
    );
    expect(stdout).toContain(`Report       ${report}`);
    expect(statSync(report).size).toBeGreaterThan(100_000); // Chart.js inlined

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${report}`);
      await page.waitForFunction(
        () => (globalThis as unknown as BrowserGlobal).document.body.dataset.chartsDrawn === 'true',
        undefined,
        { timeout: 10_000 },
      );
      // Self-contained: nothing but the file itself was loaded.
      expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
      const painted = await page.$$eval('canvas', (elements) =>
        (elements as unknown as Canvas[]).map((canvas) => {
          const context = canvas.getContext('2d');
          const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
          let inked = 0;
          for (let i = 3; i < data.length; i += 4) {
            inked += data[i] > 0 ? 1 : 0;
          }
          return { id: canvas.id, inked };
        }),
      );
      expect(painted.map((canvas) => canvas.id)).toEqual(['throughput', 'latency', 'outcomes']);
      for (const canvas of painted) {
        expect({ id: canvas.id, drawn: canvas.inked > 500 }).toEqual({ id: canvas.id, drawn: true });
      }
      expect(await page.textContent('#verdict')).toContain('PASS');
      const rows = await page.$$eval('#invariants tr td:first-child', (cells) =>
        (cells as unknown as { textContent: string | null }[]).map((cell) => cell.textContent),
      );
      expect(rows.length).toBeGreaterThanOrEqual(5);
      expect(rows.every((cell) => cell === 'PASS')).toBe(true);
      const screenshot = join(dir, 'report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot)).toBe(true);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
