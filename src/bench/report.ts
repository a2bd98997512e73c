/**
 * Report benchmark: `node dist/bench/report.js --model <checkpoint> [--runs 3]`.
 *
 * Runs `als report` on the checkpoint in fresh processes (as a user would) and prints, per run,
 * the wall time of the whole command (process start included), the time writeReport measured
 * itself, the CPU time (user + system) of the child, and the HTML size. Target on an
 * ml-latest-small checkpoint: ≤ 3 s wall, ≤ 1 MB. On a shared 2-core machine the wall time is
 * noisy; the CPU time is the steadier figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCommand, positiveInteger } from './options.js';

const { model, runs } = benchCommand(
  'report',
  'als report on a checkpoint in fresh processes: wall, CPU and HTML size',
)
  .requiredOption('--model <checkpoint>', 'checkpoint written by als train')
  .option('--runs <n>', 'als report processes', positiveInteger, 3)
  .parse()
  .opts<{ model: string; runs: number }>();
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/als.js');
const scratch = mkdtempSync(path.join(tmpdir(), 'als-bench-report-'));
try {
  const rows: { wallMs: number; reportMs: number; cpuMs: number; bytes: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const out = path.join(scratch, `report-${run}.html`);
    // The child reports its own CPU time on exit (stderr), so the parent's does not mix in.
    const startedMs = performance.now();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'data:text/javascript,process.on("exit",()=>{const c=process.cpuUsage();process.stderr.write("cpu-ms "+((c.user+c.system)/1000).toFixed(0)+"\\n")})',
        bin,
        'report',
        '--model',
        model,
        '--out',
        out,
      ],
      { encoding: 'utf-8' },
    );
    const wallMs = performance.now() - startedMs;
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      process.exit(1);
    }
    const reportMs = Number(/in ([\d.]+) s/.exec(child.stdout)?.[1] ?? Number.NaN) * 1000;
    const cpuMs = Number(/cpu-ms (\d+)/.exec(child.stderr)?.[1] ?? Number.NaN);
    rows.push({ wallMs, reportMs, cpuMs, bytes: statSync(out).size });
  }
  process.stdout.write(`als report --model ${model}\n`);
  process.stdout.write('run   wall (command)   writeReport   CPU (user+sys)   HTML\n');
  rows.forEach((r, i) => {
    process.stdout.write(
      `${String(i + 1).padStart(3)}   ${(r.wallMs / 1000).toFixed(2).padStart(10)} s   ${(r.reportMs / 1000).toFixed(2).padStart(9)} s   ${(r.cpuMs / 1000).toFixed(2).padStart(12)} s   ${(r.bytes / 1024).toFixed(0)} KB\n`,
    );
  });
  const sorted = rows.map((r) => r.wallMs).sort((a, b) => a - b);
  process.stdout.write(
    `median wall ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s (target ≤ 3 s); HTML ≤ 1 MB: ${rows.every((r) => r.bytes <= 1024 * 1024) ? 'yes' : 'NO'}\n`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
