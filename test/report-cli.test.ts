import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../src/app/report.js';
import { readCheckpoint, writeCheckpoint } from '../src/data/checkpoint.js';
import { movielensDir } from './helpers/movielens.js';

// Runs the compiled CLI (npm test builds first) on a private copy of ml-latest-small, so that one
// test can hide the data set and the cache lives in the temp dir.
const home = mkdtempSync(path.join(tmpdir(), 'als-report-cli-'));
const dataDir = path.join(home, 'ml-latest-small');
const out = path.join(home, 'out');
afterAll(() => rmSync(home, { recursive: true, force: true }));

function als(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.resolve('bin/als.js'), ...args], {
    encoding: 'utf-8',
    env: { ...process.env, ALS_DATA_HOME: home, ALS_MIRROR: '' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const latent = path.join(home, 'latent.als');
const bias = path.join(home, 'bias.als');
const noHistory = path.join(home, 'no-history.als');
let trainLatent: ReturnType<typeof als>;

beforeAll(() => {
  for (const file of ['ratings.csv', 'movies.csv']) {
    mkdirSync(dataDir, { recursive: true });
    cpSync(path.join(movielensDir('ml-latest-small'), file), path.join(dataDir, file));
  }
  mkdirSync(out);
  trainLatent = als(
    'train',
    '--data',
    dataDir,
    '--model',
    'latent',
    '--dim',
    '8',
    '--epochs',
    '4',
    '--threads',
    '1',
    '--out',
    latent,
    '--quiet',
    '--report',
  );
  expect(trainLatent.stderr).toBe('');
  expect(trainLatent.status).toBe(0);
  const trainBias = als(
    'train',
    '--data',
    dataDir,
    '--model',
    'bias',
    '--epochs',
    '3',
    '--threads',
    '1',
    '--out',
    bias,
    '--quiet',
  );
  expect(trainBias.status).toBe(0);
  // A checkpoint whose history was lost (e.g. written by a tool that does not record one).
  writeCheckpoint(noHistory, { ...readCheckpoint(latent), metrics: [] });
});

const svgCount = (html: string): number => html.match(/<svg[\s>]/g)?.length ?? 0;

describe('als train --report', () => {
  it('writes the report beside the checkpoint and prints a sparkline of validation RMSE', () => {
    const history = JSON.parse(readFileSync(`${latent}.metrics.json`, 'utf8')).epochs as {
      validationRmse: number;
    }[];
    const line = /^curve {4}(\S+) {2}validation RMSE, epochs 1–4$/m.exec(trainLatent.stdout);
    expect(line).not.toBeNull();
    // One block per epoch; the worst epoch is the tallest block and the best the lowest.
    const blocks = [...line![1]!];
    expect(blocks).toHaveLength(history.length);
    const rmse = history.map((m) => m.validationRmse);
    expect(blocks[rmse.indexOf(Math.max(...rmse))]).toBe('█');
    expect(blocks[rmse.indexOf(Math.min(...rmse))]).toBe('▁');
    expect(trainLatent.stdout).toContain(`report   ${latent}.report.html`);
    const html = readFileSync(`${latent}.report.html`, 'utf8');
    expect(svgCount(html)).toBe(3);
    expect(html).toContain('ALS report: latent model, dim 8 on ml-latest-small');
  });
});

describe('als report', () => {
  it('writes one self-contained page with the charts, the evaluation of als eval and both liked lists', () => {
    const file = path.join(out, 'report.html');
    const run = als('report', '--model', latent, '--out', file);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^wrote .*report\.html \(\d+ KB\) in [\d.]+ s$/m);
    const html = readFileSync(file, 'utf8');
    expect(statSync(file).size).toBeLessThanOrEqual(1024 * 1024);
    expect(svgCount(html)).toBe(3);
    expect(html).not.toMatch(/<script|<link|<img|src=/i);
    // The same numbers as als eval on the same checkpoint.
    const evaluation = JSON.parse(als('eval', '--model', latent, '--json').stdout);
    expect(html).toContain(`<td class="num">${evaluation.ratings.all.rmse.toFixed(4)}</td>`);
    const floored = JSON.parse(
      als('eval', '--model', latent, '--min-ratings', '20', '--json').stdout,
    );
    // Ranking over every movie, and over movies with ≥ 20 training ratings (als recommend's floor).
    expect(html).toContain(
      `<tr><td>nDCG@10</td><td class="num">${evaluation.ranking.ndcg.toFixed(4)}</td><td class="num">${floored.ranking.ndcg.toFixed(4)}</td></tr>`,
    );
    expect(html).toContain('<th class="num">Movies with ≥ 20 ratings</th>');
    expect(html).toContain('10,084'); // held-out ratings of random:0.1 on ml-latest-small
    // The liked lists are what als recommend --user-likes prints for the same checkpoint.
    for (const [title, caption] of [
      ['Toy Story', 'Liked “Toy Story (1995)”'],
      ['Saw', 'Liked “Saw (2004)”'],
    ] as const) {
      const recommend = als('recommend', '--model', latent, '--user-likes', title, '--json');
      expect(recommend.status).toBe(0);
      const expected = (JSON.parse(recommend.stdout).recommendations as { title: string }[]).map(
        (r) => r.title,
      );
      expect(expected).toHaveLength(10);
      const start = html.indexOf(caption);
      expect(start).toBeGreaterThan(0);
      const table = html.slice(start, html.indexOf('</table>', start));
      const titles = [...table.matchAll(/<tr><td class="num">\d+<\/td><td>([^<]*)<\/td>/g)].map(
        (m) => m[1]!.replace(/&amp;/g, '&').replace(/&#39;/g, "'"),
      );
      expect(titles).toEqual(expected);
    }
    // Data set summary from the real counts.
    expect(html).toContain('100,836');
    expect(html).toContain('9,724 (9,742)');
  });

  it('also works for the bias-only model, next to the checkpoint by default', () => {
    const run = als('report', '--model', bias);
    expect(run.status).toBe(0);
    const html = readFileSync(`${bias}.report.html`, 'utf8');
    expect(html).toContain('ALS report: bias-only model on ml-latest-small');
    expect(svgCount(html)).toBe(3);
  });

  it('on ml-100k: whole-star histogram, the Toy Story list, and a sentence for the missing “Saw”', () => {
    const model = path.join(home, 'ml100k-bias.als');
    expect(
      als(
        'train',
        '--data',
        movielensDir('ml-100k'),
        '--model',
        'bias',
        '--epochs',
        '3',
        '--split',
        'ml100k:u1',
        '--out',
        model,
        '--quiet',
      ).status,
    ).toBe(0);
    const file = path.join(out, 'ml100k.html');
    const run = als('report', '--model', model, '--out', file);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('Rating histogram (100,000 ratings, mean 3.53)');
    expect(html).not.toContain('>0.5</text>');
    expect(html).toContain('Liked “Toy Story (1995)”');
    expect(html).not.toContain('Liked “Saw');
    expect(html).toContain('“Saw” is not in this data set, so there is no list for it.');
    expect(html).toContain(
      'Split ml100k:u1 (seed 1), re-created from the data set: 20,000 held-out ratings',
    );
  });

  // In-process from here on (same code as the CLI, without a process start per case).
  it('says so when the checkpoint has no metrics history, instead of drawing empty curves', async () => {
    const file = path.join(out, 'no-history.html');
    await writeReport({ checkpointFile: noHistory, out: file });
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('This checkpoint has no metrics history');
    expect(svgCount(html)).toBe(2);
  });

  it('says so when the data set is gone, and still shows the training history', async () => {
    const hidden = `${dataDir}-hidden`;
    renameSync(dataDir, hidden);
    try {
      const file = path.join(out, 'no-data.html');
      await writeReport({
        checkpointFile: latent,
        out: file,
        data: { dataHome: home, dedupe: 'error', cache: true },
      });
      const html = readFileSync(file, 'utf8');
      expect(html).toContain('The data set ml-latest-small was not found');
      expect(svgCount(html)).toBe(1);
    } finally {
      renameSync(hidden, dataDir);
    }
  });

  it('overwrites an existing report atomically (no temporary left behind); states a --max-users subset', async () => {
    const file = path.join(out, 'again.html');
    writeFileSync(file, 'old');
    await writeReport({
      checkpointFile: latent,
      out: file,
      maxUsers: 50,
      data: { dataHome: home, dedupe: 'error', cache: true },
    });
    const html = readFileSync(file, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // --max-users: the subset is stated on the page.
    expect(html).toMatch(
      /Ranked for an evenly spaced 50 of the \d+ users with a relevant held-out movie/,
    );
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('bad input: one line, non-zero exit, nothing written', () => {
    const missingFolder = path.join(home, 'no-such-folder', 'r.html');
    const folder = als('report', '--model', latent, '--out', missingFolder);
    expect(folder.status).toBe(1);
    expect(folder.stderr).toBe(
      `als: cannot write ${missingFolder}: folder ${path.dirname(missingFolder)} does not exist\n`,
    );
    expect(existsSync(path.dirname(missingFolder))).toBe(false);

    const noModel = als(
      'report',
      '--model',
      path.join(home, 'nope.als'),
      '--out',
      path.join(out, 'x.html'),
    );
    expect(noModel.status).toBe(1);
    expect(noModel.stderr).toMatch(
      /^als: no checkpoint at .*nope\.als: train one with 'als train --out .*'\n$/,
    );
    expect(existsSync(path.join(out, 'x.html'))).toBe(false);

    const other = als(
      'report',
      '--model',
      latent,
      '--data',
      movielensDir('ml-100k'),
      '--out',
      path.join(out, 'y.html'),
    );
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/^als: .*checkpoint was trained on another data set .*\n$/);
    expect(existsSync(path.join(out, 'y.html'))).toBe(false);

    const badK = als('report', '--model', latent, '--k', '0');
    expect(badK.status).toBe(2);
    expect(badK.stderr).toBe('als: --k: must be a positive whole number\n');
  });
});

describe('als plot', () => {
  it('curves: overlays runs from a checkpoint and a metrics file, with their labels', () => {
    const file = path.join(out, 'curves.svg');
    const run = als('plot', 'curves', bias, `${latent}.metrics.json`, '--out', file);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>bias-only model</text>');
    expect(svg).toContain('>latent model, dim 8</text>');
    expect(svg).toContain('>RMSE (stars)</text>');
    const labelled = als(
      'plot',
      'curves',
      latent,
      bias,
      '--label',
      'dim 8',
      '--label',
      'biases',
      '--out',
      file,
    );
    expect(labelled.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('>biases</text>');
  });

  it('activity and ratings: from --data, or from the JSON of als stats', () => {
    const activity = path.join(out, 'activity.svg');
    expect(als('plot', 'activity', '--data', dataDir, '--out', activity).status).toBe(0);
    const svg = readFileSync(activity, 'utf8');
    expect(svg).toContain('>User activity (610 users)</text>');
    expect(svg).toMatch(/>power-law fit: α = \d\.\d\d, x ≥ \d+<\/text>/);

    const statsFile = path.join(out, 'stats.json');
    const stats = als('stats', '--data', dataDir, '--json');
    writeFileSync(statsFile, stats.stdout);
    const ratings = path.join(out, 'ratings.svg');
    expect(als('plot', 'ratings', '--stats', statsFile, '--out', ratings).status).toBe(0);
    expect(readFileSync(ratings, 'utf8')).toContain(
      '>Rating histogram (100,836 ratings, mean 3.50)</text>',
    );
  });

  it('bad input: one line naming the file or option', () => {
    const svgOut = path.join(out, 'bad.svg');
    const notJson = als('plot', 'activity', '--stats', `${latent}.metrics.csv`, '--out', svgOut);
    expect(notJson.status).toBe(1);
    expect(notJson.stderr).toMatch(/^als: .*latent\.als\.metrics\.csv: not valid JSON .*\n$/);
    const wrongJson = als('plot', 'ratings', '--stats', `${latent}.metrics.json`, '--out', svgOut);
    expect(wrongJson.stderr).toMatch(
      /^als: .*metrics\.json: not the output of 'als stats --json' \(.*\)\n$/,
    );
    const emptyHistory = als('plot', 'curves', noHistory, '--out', svgOut);
    expect(emptyHistory.status).toBe(1);
    expect(emptyHistory.stderr).toMatch(/no metrics history .*nothing to plot\n$/);
    const width = als('plot', 'curves', latent, '--width', 'wide', '--out', svgOut);
    expect(width.status).toBe(2);
    expect(width.stderr).toBe('als: --width: must be a number\n');
    const folder = als('plot', 'curves', latent, '--out', path.join(home, 'missing', 'c.svg'));
    expect(folder.stderr).toMatch(
      /^als: cannot write .*c\.svg: folder .*missing does not exist\n$/,
    );
    expect(existsSync(svgOut)).toBe(false);
  });
});
