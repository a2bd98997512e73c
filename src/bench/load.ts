/**
 * Load benchmark: `node dist/bench/load.js --data <set> [--skip-csv-parse] [--pandas]` (a set in
 * the data home, or a folder).
 *
 * Each measurement runs in a fresh child process so its peak RSS (process.resourceUsage().maxRSS)
 * is its own and the OS page cache is the only thing shared (run once to warm it; numbers are
 * wall-clock on a shared 2-core machine and noisy):
 *   1. cold load with the byte scanner (parse + index + fingerprint, no cache), then cache write;
 *   2. cached load (one read + typed-array views);
 *   3. cold load with csv-parse for ratings.csv (for comparison);
 *   4. with --pandas: pandas' read_csv of the ratings file with int32/float32 dtypes (the python
 *      given by --python, default python3).
 * "wall" and "cpu" are the measured work inside the child; "process" is the child's whole life
 * (start-up, imports, exit) as the parent sees it.
 * Targets on 32M ratings: cold ≤ 10 s, cached ≤ 1 s, peak RSS ≤ 2.5 GB.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';
import { cacheFileFor, stampSources, writeCache } from '../data/cache.js';
import { loadDataset, readDataset } from '../data/load.js';
import { detectLayout } from '../data/readers/detect.js';
import { benchCommand, benchDataHome, dataHomeOption, dataFolder } from './options.js';

interface PhaseResult {
  phase: string;
  elapsedMs: number;
  /** The child process from spawn to exit (set by the parent). */
  processMs?: number;
  /** CPU time (user + system) of the measured work: less sensitive than wall time to other load on the machine. */
  cpuMs: number;
  cacheWriteMs?: number;
  cacheBytes?: number;
  peakRssMB: number;
  ratings: number;
}

interface LoadBenchOptions {
  data: string;
  dataHome?: string;
  skipCsvParse: boolean;
  pandas: boolean;
  python: string;
  /** Set in the child processes the bench spawns: the phase to measure, and where the cache goes. */
  child?: string;
  cacheDir?: string;
}

const options = benchCommand(
  'load',
  'cold, cached and csv-parse load times and peak RSS, each in a fresh process',
)
  .option('--data <set>', 'data set (a folder in the data home, or a path)', 'ml-latest-small')
  .addOption(dataHomeOption())
  .option('--skip-csv-parse', 'skip the csv-parse comparison', false)
  .option(
    '--pandas',
    "also time pandas' read_csv (int32/float32 dtypes) on the ratings file",
    false,
  )
  .option('--python <command>', 'the python that has pandas', 'python3')
  .addOption(new Option('--child <phase>').hideHelp())
  .addOption(new Option('--cache-dir <dir>').hideHelp())
  .parse()
  .opts<LoadBenchOptions>();

const peakRssMB = (): number => process.resourceUsage().maxRSS / 1024;
const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

async function runPhase(phase: string, dir: string, cacheDir: string): Promise<PhaseResult> {
  if (phase === 'cold-scanner' || phase === 'cold-csv-parse') {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const { dataset, notes, sources } = await readDataset(dir, {
      ratingsParser: phase === 'cold-scanner' ? 'scanner' : 'csv-parse',
    });
    const elapsedMs = performance.now() - start;
    const result: PhaseResult = {
      phase,
      elapsedMs,
      cpuMs: cpuMsSince(cpu),
      peakRssMB: peakRssMB(),
      ratings: dataset.matrix.numRatings,
    };
    if (phase === 'cold-scanner') {
      const file = cacheFileFor(cacheDir, dir);
      const writeStart = performance.now();
      writeCache(file, dataset, sources, notes);
      result.cacheWriteMs = performance.now() - writeStart;
      result.cacheBytes = statSync(file).size;
      result.peakRssMB = peakRssMB();
    }
    return result;
  }
  if (phase === 'cached') {
    // Make sure the cache is valid for these sources (written by the cold phase).
    stampSources(detectLayout(dir).sourceFiles);
    const start = performance.now();
    const cpu = process.cpuUsage();
    let rebuilt = false;
    const dataset = await loadDataset(dir, { cacheDir, warn: () => (rebuilt = true) });
    const elapsedMs = performance.now() - start;
    if (rebuilt) throw new Error('the cache was not usable');
    return {
      phase,
      elapsedMs,
      cpuMs: cpuMsSince(cpu),
      peakRssMB: peakRssMB(),
      ratings: dataset.matrix.numRatings,
    };
  }
  throw new Error(`unknown phase ${phase}`);
}

/**
 * pandas' read_csv of a comma-separated ratings file with a header, the columns as int32 except
 * the rating (float32), timed inside python like the phases above (python3 and pandas needed).
 */
const PANDAS_SCRIPT = `
import json, resource, sys, time
import pandas as pd
path = sys.argv[1]
with open(path) as f:
    names = f.readline().strip().split(',')
dtype = {name: ('float32' if k == 2 else 'int32') for k, name in enumerate(names)}
wall, cpu = time.perf_counter(), time.process_time()
frame = pd.read_csv(path, dtype=dtype)
print(json.dumps({'phase': 'pandas-read-csv', 'elapsedMs': 1000 * (time.perf_counter() - wall),
  'cpuMs': 1000 * (time.process_time() - cpu),
  'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'ratings': len(frame)}))
`;

function runChild(command: string, args: string[], phase: string): PhaseResult {
  const start = performance.now();
  const run = spawnSync(command, args, { encoding: 'utf-8', maxBuffer: 1 << 20 });
  const processMs = performance.now() - start;
  if (run.error) throw new Error(`${phase} failed: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`${phase} failed: ${run.stderr.trim().split('\n').pop()}`);
  return { ...(JSON.parse(run.stdout) as PhaseResult), processMs };
}

async function main(): Promise<void> {
  const dir = dataFolder(options.data, benchDataHome(options.dataHome));
  const child = options.child;
  if (child !== undefined) {
    const result = await runPhase(child, dir, options.cacheDir!);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'als-bench-cache-'));
  const phases = ['cold-scanner', 'cached', ...(options.skipCsvParse ? [] : ['cold-csv-parse'])];
  const size = statSync(detectLayout(dir).ratingsFile).size;
  process.stdout.write(
    `data: ${dir} (ratings file ${(size / 1e6).toFixed(0)} MB; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)\n`,
  );
  try {
    const ratingsFile = detectLayout(dir).ratingsFile;
    if (options.pandas && !ratingsFile.endsWith('.csv'))
      process.stdout.write(`pandas: skipped (${path.basename(ratingsFile)} is not a CSV file)\n`);
    for (const phase of [
      ...phases,
      ...(options.pandas && ratingsFile.endsWith('.csv') ? ['pandas'] : []),
    ]) {
      const r =
        phase === 'pandas'
          ? runChild(options.python, ['-c', PANDAS_SCRIPT, ratingsFile], phase)
          : runChild(
              process.execPath,
              [
                fileURLToPath(import.meta.url),
                '--data',
                dir,
                '--child',
                phase,
                '--cache-dir',
                cacheDir,
              ],
              phase,
            );
      const extra =
        r.cacheWriteMs !== undefined
          ? `, cache write ${(r.cacheWriteMs / 1000).toFixed(2)} s (${(r.cacheBytes! / 1e6).toFixed(0)} MB)`
          : '';
      process.stdout.write(
        `${r.phase.padEnd(16)} ${(r.elapsedMs / 1000).toFixed(2).padStart(7)} s wall ${(r.cpuMs / 1000).toFixed(2).padStart(7)} s cpu ${(r.processMs! / 1000).toFixed(2).padStart(7)} s process   peak RSS ${r.peakRssMB.toFixed(0).padStart(5)} MB   ${r.ratings.toLocaleString('en-US')} ratings${extra}\n`,
      );
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
