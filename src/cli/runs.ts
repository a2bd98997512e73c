/**
 * `als runs`: the runs recorded in <data home>/runs.sqlite (src/app/runs.ts): a list with filters
 * and --best, `als runs show <id>`, `als runs compare <id> <id>…`, each with --json.
 */
import type { Command } from 'commander';
import { compareRecordedRuns, listRecordedRuns, showRecordedRun } from '../app/runs.js';
import type { RunComparison, RunDetail, RunSummary } from '../registry/registry.js';
import { UsageError } from '../errors.js';
import { dataSourceOf } from './common.js';
import { addOptions, readOptions, type OptionKey } from './options.js';

export const RUNS_OPTIONS = [
  'data',
  'runsKind',
  'runCommand',
  'since',
  'best',
  'allRuns',
  'limit',
  'json',
  'dataHome',
] as const satisfies readonly OptionKey[];
const ONE_OPTIONS = ['json', 'dataHome'] as const satisfies readonly OptionKey[];

function runId(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`run id "${text}" is not a number (see als runs)`);
  return Number(text);
}

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description(
      'list, show and compare the runs recorded in <data home>/runs.sqlite (als runs is als runs list; see als runs list --help for its filters)',
    );
  const list = runs
    .command('list', { isDefault: true })
    .description('list recorded runs, newest first (or best first with --best)');
  addOptions(list, RUNS_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, RUNS_OPTIONS);
    const listing = await listRecordedRuns({
      dataHome: dataSourceOf(o).dataHome,
      data: o.data,
      kind: o.runsKind,
      command: o.runCommand,
      since: o.since,
      best: o.best,
      all: o.allRuns,
      limit: o.limit,
    });
    process.stdout.write(
      o.json
        ? `${JSON.stringify(listing.runs, null, 2)}\n`
        : formatRunList(listing.runs, listing.file, o.best),
    );
  });
  const show = runs
    .command('show <id>')
    .description('one recorded run: command line, settings, metrics and per-epoch history');
  addOptions(show, ONE_OPTIONS).action(async (id: string, _options: unknown, cmd: Command) => {
    const o = readOptions(cmd, ONE_OPTIONS);
    const run = await showRecordedRun(runId(id), { dataHome: dataSourceOf(o).dataHome });
    process.stdout.write(o.json ? `${JSON.stringify(run, null, 2)}\n` : formatRun(run));
  });
  const compare = runs
    .command('compare <ids...>')
    .description('recorded runs side by side; * marks the rows where they differ');
  addOptions(compare, ONE_OPTIONS).action(
    async (ids: string[], _options: unknown, cmd: Command) => {
      const o = readOptions(cmd, ONE_OPTIONS);
      const comparison = await compareRecordedRuns(ids.map(runId), {
        dataHome: dataSourceOf(o).dataHome,
      });
      process.stdout.write(
        o.json ? `${JSON.stringify(comparison, null, 2)}\n` : formatComparison(comparison),
      );
    },
  );
}

const f4 = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(4);
const kindOf = (r: RunSummary): string => (r.kind === 'tune-trial' ? 'tune' : r.kind);
const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ');

function settingsOf(r: RunSummary): string {
  const h = r.hyperparameters as Record<string, unknown>;
  if (r.modelKind === null) return '-';
  const parts = [r.modelKind === 'bias' ? 'bias' : `${r.modelKind} dim ${h.dim}`, `λ ${h.lambda}`];
  if (r.modelKind !== 'bias') parts.push(`τ ${h.tau}`);
  parts.push(`γ ${h.gamma}`);
  if (r.modelKind === 'genre') parts.push(`τ_g ${h.genreTau}`);
  return parts.join(', ');
}

export function formatRunList(runs: RunSummary[], file: string, best?: string): string {
  if (runs.length === 0) return `no runs recorded in ${file} match\n`;
  const rows = runs.map((r) => {
    const where =
      r.fold !== null && !(r.split ?? '').includes('#')
        ? `${r.split} fold ${r.fold + 1}`
        : (r.split ?? '-');
    const tuneAt =
      r.tuneId !== null
        ? ` tune ${r.tuneId}/trial ${(r.trial ?? 0) + 1}/rung ${(r.rung ?? 0) + 1}`
        : '';
    return [
      String(r.id),
      when(r.startedAt),
      kindOf(r) + (r.status === 'finished' ? '' : ` (${r.status})`),
      r.dataName ?? '-',
      where + tuneAt,
      settingsOf(r),
      r.epochs === null ? '-' : String(r.epochs),
      f4(r.metrics.rmse),
      f4(r.metrics['ndcg@10']),
      ...(best !== undefined && best !== 'rmse' && best !== 'ndcg@10' ? [f4(r.metrics[best])] : []),
    ];
  });
  const head = [
    'id',
    'started (UTC)',
    'command',
    'data',
    'split',
    'model',
    'epochs',
    'RMSE',
    'nDCG@10',
    ...(best !== undefined && best !== 'rmse' && best !== 'ndcg@10' ? [best] : []),
  ];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((x, c) => (c === 0 || c >= 6 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

export function formatRun(r: RunDetail): string {
  const lines = [
    `run      ${r.id}: ${kindOf(r)}, ${r.status}${r.error ? ` (${r.error})` : ''}`,
    `command  ${r.commandLine.join(' ')}`,
    `started  ${r.startedAt}${r.wallMs !== null ? `, ${(r.wallMs / 1000).toFixed(2)} s` : ''}; als ${r.toolVersion}`,
    `data     ${r.dataName ?? '-'}${r.dataFingerprint ? ` (fingerprint ${r.dataFingerprint.slice(0, 12)})` : ''}, split ${r.split ?? '-'}${r.fold !== null ? ` fold ${r.fold + 1}` : ''}, seed ${r.seed ?? '-'}`,
    `model    ${settingsOf(r)}`,
    `         ${Object.entries(r.hyperparameters)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`,
  ];
  if (r.tuneId !== null)
    lines.push(`tune     ${r.tuneId}, trial ${(r.trial ?? 0) + 1}, rung ${(r.rung ?? 0) + 1}`);
  if (r.kernel !== null || r.threads !== null)
    lines.push(`kernel   ${r.kernel ?? '-'}, ${r.threads ?? '-'} threads`);
  if (r.checkpoint) lines.push(`file     ${r.checkpoint}`);
  const metrics = Object.entries(r.metrics);
  lines.push(
    `metrics  ${metrics.length ? metrics.map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ') : '-'}`,
  );
  if (r.history.length > 0) {
    lines.push('', 'epoch        loss  train RMSE  valid RMSE      ms');
    for (const e of r.history) {
      lines.push(
        `${String(e.epoch).padStart(5)}  ${(e.loss === null ? '-' : e.loss.toPrecision(6)).padStart(10)}  ${f4(e.trainRmse ?? undefined).padStart(10)}  ${f4(e.validationRmse ?? undefined).padStart(10)}  ${(e.elapsedMs === null ? '-' : e.elapsedMs.toFixed(0)).padStart(6)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function formatComparison(c: RunComparison): string {
  const cell = (v: string | number | boolean | null): string =>
    v === null ? '-' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v);
  const head = ['', 'run', ...c.runs.map((r) => String(r.id))];
  const rows = c.rows.map((row) => [row.differs ? '*' : '', row.name, ...row.values.map(cell)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((x, i) => (i < 2 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
