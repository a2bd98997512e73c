/**
 * Successive halving over epoch milestones, synchronous or asynchronous (ASHA), as pure logic:
 * the scheduler says which (trial, rung) to run next and is told each result; it never trains.
 *
 * Rungs r = 0 … R−1 are the milestones m_0 < m_1 < … (epochs of training). Every trial is scored at
 * m_0; with reduction factor η, the best ⌊n_r / η⌋ (at least 1) of the n_r trials scored at rung r
 * go on to rung r + 1, and so on up to the last milestone (Jamieson & Talwalkar 2016).
 * - sync: rung r + 1 starts only when every trial of rung r has been scored, so a promotion is
 *   decided among all of them (classic successive halving; the right choice when jobs run one
 *   after another, since there is no idle worker to keep busy).
 * - async (ASHA, Li et al. 2018, "get_job"): when asked for work, promote a trial from the highest
 *   rung r where some trial is in the top ⌊n_r / η⌋ of those scored so far and not yet promoted;
 *   otherwise start the next new trial at rung 0 (when none is left, at least the best of a rung is
 *   promoted). Workers never wait for a rung to fill, at the price of promotions decided on
 *   partial rungs.
 * Scores are compared in `direction`; NaN (a diverged run) ranks below every number. Ties go to
 * the lower trial index, so the schedule is a deterministic function of the scores.
 */
import { UsageError } from '../errors.js';

export interface HalvingOptions {
  /** Epoch milestones, strictly increasing positive integers, e.g. [5, 15, 40]. */
  milestones: number[];
  /** η ≥ 2: one trial in η goes on to the next rung. */
  reduction: number;
  /** 'min' for RMSE/MAE, 'max' for nDCG/precision/…. */
  direction: 'min' | 'max';
  mode: 'sync' | 'async';
}

export interface HalvingJob {
  trial: number;
  rung: number;
  /** Train the trial to this many epochs (milestones[rung]). */
  epochs: number;
}

export interface RungResult {
  trial: number;
  score: number;
}

export function checkHalvingOptions(options: HalvingOptions, where = '--halving'): void {
  const m = options.milestones;
  if (m.length === 0) throw new UsageError(`${where}: no epoch milestones`);
  for (let r = 0; r < m.length; r++) {
    if (!Number.isInteger(m[r]) || m[r]! < 1)
      throw new UsageError(`${where}: milestone ${m[r]} is not a positive integer`);
    if (r > 0 && m[r]! <= m[r - 1]!)
      throw new UsageError(`${where}: milestones must increase (${m[r - 1]} then ${m[r]})`);
  }
  if (!(options.reduction >= 2))
    throw new UsageError(
      `${where}: the reduction factor must be at least 2, got ${options.reduction}`,
    );
}

export class HalvingScheduler {
  readonly trials: number;
  readonly options: HalvingOptions;
  /** Scores per rung, in the order they were reported. */
  private readonly results: RungResult[][];
  /** Trials promoted out of each rung (the last rung promotes nobody). */
  private readonly promoted: Set<number>[];
  /** Jobs handed out and not yet reported: "trial:rung". */
  private readonly pending = new Set<string>();
  private nextNew = 0;

  constructor(trials: number, options: HalvingOptions) {
    if (!Number.isInteger(trials) || trials < 1)
      throw new RangeError(`trials must be a positive integer, got ${trials}`);
    checkHalvingOptions(options);
    this.trials = trials;
    this.options = { ...options, milestones: [...options.milestones] };
    this.results = options.milestones.map(() => []);
    this.promoted = options.milestones.map(() => new Set<number>());
  }

  /** Trials that rung r promotes out of `count` scored: ⌊count / η⌋, at least 1. */
  keep(count: number): number {
    return Math.max(1, Math.floor(count / this.options.reduction));
  }

  /** Orders results best first (NaN last, ties by trial index). */
  private ranked(results: RungResult[]): RungResult[] {
    const sign = this.options.direction === 'min' ? 1 : -1;
    return [...results].sort((a, b) => {
      const an = Number.isNaN(a.score);
      const bn = Number.isNaN(b.score);
      if (an || bn) return an === bn ? a.trial - b.trial : an ? 1 : -1;
      return sign * (a.score - b.score) || a.trial - b.trial;
    });
  }

  /**
   * Sync mode: rung r is complete when no job of it is pending and no more trials can enter it
   * (rung 0: every trial started; rung r > 0: rung r − 1 complete and fully promoted).
   */
  private complete(rung: number): boolean {
    for (const key of this.pending) if (key.endsWith(`:${rung}`)) return false;
    if (rung === 0) return this.nextNew >= this.trials;
    return this.complete(rung - 1) && this.promotable(rung - 1) === null;
  }

  private promotable(rung: number): number | null {
    const results = this.results[rung]!;
    if (results.length === 0) return null;
    if (this.options.mode === 'sync' && !this.complete(rung)) return null;
    // ASHA promotes the top ⌊n/η⌋ (none while n < η); once nothing else can run, at least one, so
    // that the last rung is always reached. Sync rungs are complete here, and keep() applies.
    const drained = this.nextNew >= this.trials && this.pending.size === 0;
    const count =
      this.options.mode === 'async' && !drained
        ? Math.floor(results.length / this.options.reduction)
        : this.keep(results.length);
    const top = this.ranked(results).slice(0, count);
    for (const r of top)
      if (!this.promoted[rung]!.has(r.trial) && !Number.isNaN(r.score)) return r.trial;
    return null;
  }

  /** The next job, or null when none can start now (all done, or waiting on pending jobs). */
  next(): HalvingJob | null {
    const last = this.options.milestones.length - 1;
    for (let rung = last - 1; rung >= 0; rung--) {
      const trial = this.promotable(rung);
      if (trial !== null) {
        this.promoted[rung]!.add(trial);
        return this.hand(trial, rung + 1);
      }
    }
    if (this.nextNew < this.trials) return this.hand(this.nextNew++, 0);
    return null;
  }

  private hand(trial: number, rung: number): HalvingJob {
    this.pending.add(`${trial}:${rung}`);
    return { trial, rung, epochs: this.options.milestones[rung]! };
  }

  /** Reports a job's score (the metric at milestones[rung] epochs). */
  report(trial: number, rung: number, score: number): void {
    const key = `${trial}:${rung}`;
    if (!this.pending.delete(key)) throw new Error(`no job trial ${trial} rung ${rung} is pending`);
    this.results[rung]!.push({ trial, score });
  }

  /** True when every job has been reported and none remains. */
  get done(): boolean {
    if (this.pending.size > 0 || this.nextNew < this.trials) return false;
    for (let rung = 0; rung < this.options.milestones.length - 1; rung++)
      if (this.promotable(rung) !== null) return false;
    return true;
  }

  /** Each rung's results, best first. */
  rungs(): RungResult[][] {
    return this.results.map((r) => this.ranked(r));
  }

  /** The best trial at the highest rung reached by any trial, or null before any result. */
  best(): { trial: number; rung: number; score: number } | null {
    for (let rung = this.results.length - 1; rung >= 0; rung--) {
      const top = this.ranked(this.results[rung]!)[0];
      if (top !== undefined) return { ...top, rung };
    }
    return null;
  }
}
