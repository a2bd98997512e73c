import { describe, expect, it } from 'vitest';
import type { Hyperparameters } from '../src/core/types.js';
import { buildReportContent, formatDuration, type ReportInput } from '../src/report/content.js';
import { escapeHtml, inlineSvg, renderReportHtml } from '../src/report/html.js';
import { sparkline } from '../src/report/sparkline.js';
import { fixtureHistory, fixtureStats } from './helpers/report-fixtures.js';

const hyper: Hyperparameters = {
  kind: 'latent',
  dim: 8,
  lambda: 1,
  tau: 5,
  gamma: 5,
  genreTau: 1,
  weightedRegularization: true,
};

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    checkpointPath: 'models/fixture.als',
    generatedAt: new Date('2026-01-02T03:04:05Z'),
    datasetName: 'fixture-set',
    stats: fixtureStats(),
    hyper,
    history: fixtureHistory(8, 0.7),
    evaluation: [
      {
        caption: 'Accuracy',
        columns: ['Segment', 'Ratings', 'RMSE', 'MAE'],
        rows: [['all', '1,000', '0.8512', '0.6600']],
      },
    ],
    recommendations: [
      {
        caption: 'Liked “Toy Story <1995>”',
        columns: ['#', 'Title'],
        rows: [[1, 'Toy Story 2 & friends']],
      },
    ],
    ...overrides,
  };
}

describe('sparkline', () => {
  it('puts the minimum at ▁ and the maximum at █, one character per value, order preserved', () => {
    const line = sparkline([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...line]).toHaveLength(8);
    expect(line[0]).toBe('▁');
    expect(line[7]).toBe('█');
    for (let i = 1; i < 8; i++) expect(line[i]! >= line[i - 1]!).toBe(true);
    expect(sparkline([0.9, 0.85, 0.8])).toBe('█▇▁');
  });
  it('keeps a late rise visible next to a large first-epoch drop (log of the distance above the minimum)', () => {
    // Shaped like a real validation curve: 0.034 drop, best at epoch 4, then +0.001 (overfitting).
    const line = sparkline([0.88, 0.86, 0.852, 0.8465, 0.847, 0.8475]);
    expect(line[0]).toBe('█');
    expect(line[3]).toBe('▁');
    expect(line[5]).not.toBe('▁');
    expect(line[2]! > line[5]!).toBe(true);
  });
  it('keeps round-off wiggles of a converged series flat', () => {
    expect(sparkline([0.9, 0.86, 0.8600001, 0.86, 0.8600002])).toBe('█▁▁▁▁');
    expect(sparkline([0.86, 0.8600001, 0.86])).toBe('▁▁▁');
  });
  it('handles flat, empty and missing values', () => {
    expect(sparkline([])).toBe('');
    expect(sparkline([2, 2, 2])).toBe('▁▁▁');
    expect(sparkline([1, Number.NaN, 3])).toBe('▁ █');
    expect(sparkline([Number.NaN, Number.NaN])).toBe('  ');
  });
  it('averages long series down to maxWidth characters', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    const line = sparkline(values, 10);
    expect([...line].length).toBe(10);
    expect(line[0]).toBe('█');
    expect(line[9]).toBe('▁');
  });
});

describe('html', () => {
  it('escapes text and namespaces inline SVG ids per chart', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
    const svg =
      '<?xml version="1.0"?><svg><clipPath id="clip1"></clipPath><g clip-path="url(#clip1)"></g></svg>';
    expect(inlineSvg(svg, 'c2')).toBe(
      '<svg><clipPath id="c2-clip1"></clipPath><g clip-path="url(#c2-clip1)"></g></svg>',
    );
  });
  it("aligns by the table's column alignment when given (a title such as “1408” stays left), else by the look of the cell", async () => {
    const html = renderReportHtml({
      title: 't',
      subtitle: [],
      sections: [
        {
          title: 's',
          tables: [
            {
              caption: 'given',
              columns: ['#', 'Title'],
              align: ['right', 'left'],
              rows: [[1, '1408']],
            },
            { caption: 'guessed', columns: ['Name', 'Value'], rows: [['1408', 'n/a']] },
          ],
        },
      ],
    });
    expect(html).toContain('<tr><td class="num">1</td><td>1408</td></tr>');
    expect(html).toContain('<th class="num">#</th><th>Title</th>');
    expect(html).toContain('<tr><td class="num">1408</td><td>n/a</td></tr>');
  });
  it('formats durations for people', () => {
    expect(formatDuration(850.4)).toBe('850 ms');
    expect(formatDuration(1234)).toBe('1.23 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
  });
  it('renders a self-contained page with three charts, the tables and escaped titles', async () => {
    const html = renderReportHtml(await buildReportContent(input()));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<svg[\s>]/g)?.length).toBe(3);
    expect(html).not.toMatch(/<script|<link|<img|@import|src=/i);
    // No reference to anything on the network except the SVG namespace URIs.
    const urls = [...html.matchAll(/https?:\/\/[^"'\s)]+/g)]
      .map((m) => m[0])
      .filter((u) => !u.startsWith('http://www.w3.org/'));
    expect(urls).toEqual([]);
    expect(html).toContain('Liked “Toy Story &lt;1995&gt;”');
    expect(html).toContain('Toy Story 2 &amp; friends');
    expect(html).toContain('<td class="num">0.8512</td>');
    expect(html).toContain('ALS report: latent model, dim 8 on fixture-set');
    expect(html).toContain('Best validation RMSE');
  });
  it('says there is no metrics history instead of drawing empty curves', async () => {
    const html = renderReportHtml(await buildReportContent(input({ history: [] })));
    expect(html).toContain('This checkpoint has no metrics history');
    expect(html.match(/<svg[\s>]/g)?.length).toBe(2);
  });
  it('says the data set is missing instead of drawing its charts', async () => {
    const html = renderReportHtml(
      await buildReportContent(
        input({ stats: null, statsNote: 'The data set fixture-set was not found.' }),
      ),
    );
    expect(html).toContain('The data set fixture-set was not found.');
    expect(html.match(/<svg[\s>]/g)?.length).toBe(1);
  });
});
