import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium.js';
import { movielensDir } from '../helpers/movielens.js';

/**
 * Opens a generated report in real headless Chromium from a file:// URL and checks what a person
 * would see: the three charts laid out with a non-zero size and text in them, no console errors,
 * no request leaving the file, and a screenshot that is not a blank page.
 */
describe('report in a real browser', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'als-report-e2e-'));
  let browser: Browser;
  const checkpoint = path.join(scratch, 'genre.als');
  const reportFile = `${checkpoint}.report.html`;

  beforeAll(async () => {
    // A real report: a small latent model trained on ml-latest-small by the compiled CLI (npm test builds first).
    const train = spawnSync(
      process.execPath,
      [
        path.resolve('bin/als.js'),
        'train',
        '--data',
        movielensDir('ml-latest-small'),
        '--dim',
        '8',
        '--epochs',
        '5',
        '--threads',
        '1',
        '--out',
        checkpoint,
        '--quiet',
        '--report',
      ],
      { encoding: 'utf-8', env: { ...process.env, ALS_DATA_HOME: scratch } },
    );
    expect(train.stderr).toBe('');
    expect(train.status).toBe(0);
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: CHROMIUM_ARGS,
      headless: true,
    });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('renders the charts, logs no errors, loads nothing from outside and is not blank', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const foreignRequests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith('file:') && !request.url().startsWith('data:'))
        foreignRequests.push(request.url());
    });
    await page.goto(pathToFileURL(reportFile).href, { waitUntil: 'load' });

    const charts = await page.$$eval('figure.chart svg', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return {
          width: box.width,
          height: box.height,
          texts: svg.querySelectorAll('text').length,
          marks: svg.querySelectorAll('path, line, rect').length,
        };
      }),
    );
    expect(charts).toHaveLength(3);
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(200);
      expect(chart.height).toBeGreaterThan(150);
      expect(chart.texts).toBeGreaterThan(5);
      expect(chart.marks).toBeGreaterThan(10);
    }
    expect(await page.locator('h1').textContent()).toBe(
      'ALS report: genre model, dim 8 on ml-latest-small',
    );
    // The tables a person reads: evaluation and both liked lists, laid out with visible rows.
    const captions = await page.$$eval('caption', (nodes) => nodes.map((n) => n.textContent));
    expect(captions).toEqual(
      expect.arrayContaining([
        'Rating prediction error',
        'Top-10 ranking',
        'Liked “Toy Story (1995)”',
        'Liked “Saw (2004)”',
      ]),
    );
    const likedRows = await page
      .locator('table:has(caption:text("Liked “Toy Story (1995)”")) tbody tr')
      .count();
    expect(likedRows).toBe(10);
    const tableBox = await page
      .locator('table:has(caption:text("Rating prediction error"))')
      .boundingBox();
    expect(tableBox!.width).toBeGreaterThan(200);

    const screenshot = await page.screenshot({ fullPage: true, type: 'png' });
    writeFileSync(path.join(scratch, 'report.png'), screenshot);
    // Pixel statistics of the screenshot, decoded by the browser on a blank page (no PNG decoder needed here).
    const blank = await browser.newPage();
    const pixels = await blank.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      let sum = 0;
      let sumSquares = 0;
      let dark = 0;
      const n = data.length / 4;
      for (let p = 0; p < data.length; p += 4) {
        const luminance = 0.2126 * data[p]! + 0.7152 * data[p + 1]! + 0.0722 * data[p + 2]!;
        sum += luminance;
        sumSquares += luminance * luminance;
        if (luminance < 128) dark++;
      }
      const mean = sum / n;
      return {
        width: image.width,
        height: image.height,
        variance: sumSquares / n - mean * mean,
        darkShare: dark / n,
      };
    }, screenshot.toString('base64'));
    await blank.close();

    expect(pixels.width).toBe(1200);
    expect(pixels.height).toBeGreaterThan(1200);
    // A blank page has variance 0; text and chart marks on white give a clearly positive variance.
    expect(pixels.variance).toBeGreaterThan(100);
    expect(pixels.darkShare).toBeGreaterThan(0.005);
    expect(errors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    await page.close();
  });
});
