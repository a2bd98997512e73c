/** `als report --checkpoint <file> --out report.html`: options → writeReport (src/app/report.ts) → one line. */
import type { Command } from 'commander';
import { openCheckpoint } from '../app/data.js';
import { reportPathFor, writeReport } from '../app/report.js';
import { writeTuneReport } from '../app/tune-report.js';
import { dataEvents, dataSourceOf } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

export const REPORT_OPTIONS = [
  'checkpoint',
  'tune',
  'htmlOut',
  'k',
  'maxUsers',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description(
      "write a one-page, self-contained HTML report of a checkpoint (data, curves, evaluation, recommendations); the data set is the checkpoint's own unless --data names one",
    );
  addOptions(command, REPORT_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, REPORT_OPTIONS);
    const source = dataSourceOf(o);
    if (o.tune !== undefined) {
      const page = await writeTuneReport({
        tuneId: o.tune,
        out: o.htmlOut ?? `tune-${o.tune}.html`,
        dataHome: source.dataHome,
      });
      process.stdout.write(
        `wrote ${page.out} (${(page.bytes / 1024).toFixed(0)} KB) in ${(page.elapsedMs / 1000).toFixed(2)} s\n`,
      );
      return;
    }
    const { file, checkpoint } = openCheckpoint({
      checkpoint: o.checkpoint,
      data: source.data,
      dataHome: source.dataHome,
    });
    const result = await writeReport({
      checkpointFile: file,
      checkpoint,
      out: o.htmlOut ?? reportPathFor(file),
      data: source,
      k: o.k,
      maxUsers: o.maxUsers,
      events: dataEvents(),
    });
    process.stdout.write(
      `wrote ${result.out} (${(result.bytes / 1024).toFixed(0)} KB) in ${(result.elapsedMs / 1000).toFixed(2)} s\n`,
    );
  });
}
