/**
 * Benchmark: `als synth` at a given shape (default MovieLens-32M's), into a temporary folder that
 * is removed afterwards; prints the wall time and the process's peak RSS.
 *   node dist/bench/synth.js [ratings] [users] [movies]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSynth } from '../data/synth.js';
import { ML32M_MOVIES, ML32M_USERS } from './half-epoch-problem.js';
import { benchCommand, positiveInteger } from './options.js';

/** MovieLens-32M's rating count, rounded as `als synth --ratings 32000000` is usually run. */
const ML32M_RATINGS_ROUND = 32_000_000;

const program = benchCommand(
  'synth',
  'als synth at a given shape into a temporary folder: wall time and peak RSS',
)
  .argument('[ratings]', 'ratings', positiveInteger, ML32M_RATINGS_ROUND)
  .argument('[users]', 'users', positiveInteger, ML32M_USERS)
  .argument('[movies]', 'movies', positiveInteger, ML32M_MOVIES)
  .parse();
const [ratings, users, movies] = program.processedArgs as [number, number, number];
const parent = mkdtempSync(path.join(tmpdir(), 'als-bench-synth-'));
try {
  const cpuStart = process.cpuUsage();
  const result = generateSynth({
    out: path.join(parent, 'set'),
    users,
    movies,
    ratings,
    rank: 20,
    noise: 0.5,
    seed: 1,
  });
  process.stdout.write(
    `synth ${ratings} ratings, ${users} users, ${movies} movies: ${(result.elapsedMs / 1000).toFixed(1)} s wall, ` +
      `${((process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6).toFixed(1)} s CPU, ` +
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, perfect-model RMSE ${result.truth.perfectModelRmse.toFixed(4)}\n`,
  );
} finally {
  rmSync(parent, { recursive: true, force: true });
}
