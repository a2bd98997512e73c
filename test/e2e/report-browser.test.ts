import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hyperparameters } from '../../src/core/types.js';
import { buildReportContent } from '../../src/report/content.js';
import { renderReportHtml } from '../../src/report/html.js';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium.js';
import { fixtureHistory, fixtureStats } from '../helpers/report-fixtures.js';

/**
 * Opens a generated report in real headless Chromium from a file:// URL and checks what a person
 * would see: the three charts laid out with a non-zero size and text in them, no console errors,
 * no request leaving the file, and a screenshot that is not a blank page.
 */
describe('report in a real browser', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'als-report-e2e-'));
  let browser: Browser;
  const reportFile = path.join(scratch, 'report.html');

  beforeAll(async () => {
    const hyper: Hyperparameters = { kind: 'latent', dim: 16, lambda: 1, tau: 5, gamma: 5, genreTau: 1, weightedRegularization: true };
    const content = await buildReportContent({
      checkpointPath: 'models/fixture.als',
      generatedAt: new Date(),
      datasetName: 'fixture-set',
      stats: fixtureStats(),
      hyper,
      history: fixtureHistory(15, 0.65),
      evaluation: [{ caption: 'Accuracy', columns: ['Segment', 'RMSE'], rows: [['all', '0.8600']] }],
      recommendations: [{ caption: 'Liked “Toy Story”', columns: ['#', 'Title'], rows: [[1, 'Toy Story 2']] }],
    });
    writeFileSync(reportFile, renderReportHtml(content));
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
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
      if (!request.url().startsWith('file:') && !request.url().startsWith('data:')) foreignRequests.push(request.url());
    });
    await page.goto(pathToFileURL(reportFile).href, { waitUntil: 'load' });

    const charts = await page.$$eval('figure.chart svg', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return { width: box.width, height: box.height, texts: svg.querySelectorAll('text').length, marks: svg.querySelectorAll('path, line, rect').length };
      }),
    );
    expect(charts).toHaveLength(3);
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(200);
      expect(chart.height).toBeGreaterThan(150);
      expect(chart.texts).toBeGreaterThan(5);
      expect(chart.marks).toBeGreaterThan(10);
    }
    expect(await page.locator('h1').textContent()).toContain('ALS report');

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
      return { width: image.width, height: image.height, variance: sumSquares / n - mean * mean, darkShare: dark / n };
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
