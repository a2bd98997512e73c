import { describe, expect, it } from 'vitest';
import {
  computeGenrePriors,
  createGenreUpdate,
  foldInItem,
  foldInUser,
  predict,
  predictFromGenres,
  regularizationTerm,
  rmse,
  squaredErrorSum,
  trainingObjective,
  updateGenreFactors,
  type ItemGenres,
} from '../src/core/als.js';
import { createTsSolveRows, tsKernel } from '../src/core/kernel-ts.js';
import { createTrainer, DivergenceError, splitRowsByCost } from '../src/core/trainer.js';
import type { Hyperparameters, ModelKind, ModelState } from '../src/core/types.js';
import { plantedProblem, type Planted } from './helpers/planted.js';

function hyper(kind: ModelKind, overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  return {
    kind,
    dim: 3,
    lambda: 1,
    tau: 0.5,
    gamma: 0.5,
    genreTau: 1,
    weightedRegularization: false,
    ...overrides,
  };
}

/** Genres for `numItems` movies over 4 genres: 1–3 each, movie 5 with none. */
function genresFor(numItems: number): ItemGenres {
  const offsets = new Int32Array(numItems + 1);
  const ids: number[] = [];
  for (let n = 0; n < numItems; n++) {
    if (n !== 5) {
      ids.push(n % 4);
      if (n % 3 === 0) ids.push((n + 1) % 4);
      if (n % 5 === 0) ids.push((n + 2) % 4);
    }
    offsets[n + 1] = ids.length;
  }
  return { offsets, ids: Int32Array.from(ids), numGenres: 4 };
}

async function train(
  p: Planted,
  h: Hyperparameters,
  epochs: number,
  threads = 1,
  initial?: ModelState,
) {
  const trainer = await createTrainer({
    train: p.train,
    validation: p.test,
    itemGenres: h.kind === 'genre' ? genresFor(p.numItems) : null,
    hyper: h,
    seed: 11,
    threads,
    kernel: tsKernel,
    initial,
  });
  const history = [];
  for (let e = 0; e < epochs; e++) history.push(await trainer.epoch());
  const state = trainer.state();
  await trainer.close();
  return { history, state };
}

const latentProblem = plantedProblem({
  numUsers: 150,
  numItems: 100,
  rank: 3,
  density: 0.6,
  noiseStd: 0.3,
  seed: 1,
  testFraction: 0.1,
  emptyItems: 3,
});

describe('ALS trainer', () => {
  for (const kind of ['bias', 'latent', 'genre'] as const) {
    it(`never increases the loss (${kind}, plain, weighted, weighted with a constant bias ridge)`, async () => {
      const modes: Array<Partial<Hyperparameters>> = [
        { weightedRegularization: false, tau: 0.5, gamma: 0.5 },
        { weightedRegularization: true, tau: 0.05, gamma: 0.05 },
        { weightedRegularization: true, weightedBiasRegularization: false, tau: 0.05, gamma: 3 },
      ];
      for (const mode of modes) {
        const { history } = await train(latentProblem, hyper(kind, mode), 8);
        for (let e = 1; e < history.length; e++) {
          expect(history[e]!.loss).toBeLessThanOrEqual(history[e - 1]!.loss * (1 + 1e-12));
        }
        expect(history[7]!.epoch).toBe(8);
        expect(history[7]!.elapsedMs).toBeGreaterThanOrEqual(0);
      }
    });
  }

  it('charges the bias ridge per rating under ALS-WR and once per row when it is constant', () => {
    // 2 users with 1 and 3 ratings, 1 movie with 4; dim 1, every factor 1 and every bias 2.
    const model: ModelState = {
      hyper: hyper('latent', { dim: 1, tau: 0.5, gamma: 2, weightedRegularization: true }),
      numUsers: 2,
      numItems: 1,
      globalMean: 3,
      userBias: Float64Array.of(2, 2),
      itemBias: Float64Array.of(2),
      userFactors: Float64Array.of(1, 1),
      itemFactors: Float64Array.of(1),
      genreFactors: new Float64Array(0),
    };
    const userOffsets = Int32Array.of(0, 1, 4);
    const itemOffsets = Int32Array.of(0, 4);
    // τ part: ½·0.5·(1 + 3 + 4)·1 = 2 either way. γ part: ½·2·(1 + 3 + 4)·4 = 32 count-scaled,
    // ½·2·(1 + 1 + 1)·4 = 12 constant.
    expect(regularizationTerm(model, userOffsets, itemOffsets, null)).toBeCloseTo(34, 12);
    model.hyper.weightedBiasRegularization = true;
    expect(regularizationTerm(model, userOffsets, itemOffsets, null)).toBeCloseTo(34, 12);
    model.hyper.weightedBiasRegularization = false;
    expect(regularizationTerm(model, userOffsets, itemOffsets, null)).toBeCloseTo(14, 12);
  });

  it('bias model reaches the noise level on a planted bias-only problem', async () => {
    const p = plantedProblem({
      numUsers: 100,
      numItems: 80,
      rank: 0,
      density: 0.4,
      noiseStd: 0.4,
      seed: 2,
      testFraction: 0.1,
    });
    const { history } = await train(p, hyper('bias', { dim: 0 }), 4);
    const last = history.at(-1)!;
    expect(last.validationRmse!).toBeLessThan(0.4 * 1.08);
    expect(last.trainRmse).toBeLessThan(0.4 * 1.02);
  });

  for (const kind of ['latent', 'genre'] as const) {
    it(`${kind} model reaches the noise level on a planted rank-3 problem`, async () => {
      const { history } = await train(latentProblem, hyper(kind), 25);
      const last = history.at(-1)!;
      expect(last.trainRmse).toBeLessThan(0.3);
      expect(last.validationRmse!).toBeLessThan(0.3 * 1.1);
      // Far better than the biases alone can do on the same data.
      const bias = await train(latentProblem, hyper('bias', { dim: 0 }), 4);
      expect(last.validationRmse!).toBeLessThan(bias.history.at(-1)!.validationRmse! * 0.5);
    });
  }

  it('gives an unrated movie exactly its genre prior mean (cold start) and finite predictions', async () => {
    const { state } = await train(latentProblem, hyper('genre'), 5);
    const genres = genresFor(latentProblem.numItems);
    const K = state.hyper.dim;
    for (const n of [97, 98, 99]) {
      expect(latentProblem.train.ratingsByItem.offsets[n + 1]).toBe(
        latentProblem.train.ratingsByItem.offsets[n],
      );
      const ids = genres.ids.subarray(genres.offsets[n], genres.offsets[n + 1]);
      for (let k = 0; k < K; k++) {
        let prior = 0;
        for (const g of ids) prior += state.genreFactors[g * K + k]! / Math.sqrt(ids.length);
        expect(state.itemFactors[n * K + k]).toBeCloseTo(prior, 12);
      }
      expect(state.itemBias[n]).toBe(0);
      expect(Number.isFinite(predict(state, 0, n))).toBe(true);
      // Scoring the movie from its genres alone gives the same prediction.
      expect(predictFromGenres(state, 3, ids)).toBeCloseTo(predict(state, 3, n), 12);
      // Folding in the movie with no ratings gives the same prior.
      const folded = foldInItem(state, state.hyper, new Int32Array(0), new Float32Array(0), ids);
      for (let k = 0; k < K; k++)
        expect(folded.factors[k]).toBeCloseTo(state.itemFactors[n * K + k]!, 12);
    }
    // Out-of-range users and movies fall back to what is known, never NaN.
    expect(predict(state, -1, 999)).toBe(state.globalMean);
    expect(predict(state, 0, 999)).toBeCloseTo(state.globalMean + state.userBias[0]!, 12);
    expect(
      Number.isFinite(
        rmse(state, {
          length: 1,
          users: Int32Array.of(1000),
          items: Int32Array.of(3),
          values: Float32Array.of(4),
          timestamps: null,
        }),
      ),
    ).toBe(true);
  });

  it('gives the same model for 1, 2 and 3 threads', async () => {
    for (const kind of ['latent', 'genre'] as const) {
      const one = await train(latentProblem, hyper(kind), 3, 1);
      let two = one;
      for (const threads of [2, 3]) {
        const many = await train(latentProblem, hyper(kind), 3, threads);
        if (threads === 2) two = many;
        expect(many.state.userFactors).toEqual(one.state.userFactors);
        expect(many.state.itemFactors).toEqual(one.state.itemFactors);
        expect(many.state.itemBias).toEqual(one.state.itemBias);
        expect(many.state.genreFactors).toEqual(one.state.genreFactors);
        expect(many.history.map((m) => [m.loss, m.trainRmse, m.validationRmse])).toEqual(
          one.history.map((m) => [m.loss, m.trainRmse, m.validationRmse]),
        );
      }
      if (kind === 'latent') {
        // The threads' chunked loss equals the one-pass loss over the final model.
        const direct = trainingObjective(two.state, latentProblem.train, null);
        expect(two.history.at(-1)!.loss).toBeCloseTo(direct.loss, 8);
        expect(two.history.at(-1)!.trainRmse).toBeCloseTo(direct.rmse, 12);
      }
    }
  });

  it('resumes: 3 + 2 epochs equal 5 uninterrupted epochs exactly', async () => {
    for (const kind of ['latent', 'genre'] as const) {
      const h = hyper(kind, { weightedRegularization: true, tau: 0.05, gamma: 0.05 });
      const full = await train(latentProblem, h, 5);
      const first = await train(latentProblem, h, 3);
      const trainer = await createTrainer({
        train: latentProblem.train,
        validation: latentProblem.test,
        itemGenres: kind === 'genre' ? genresFor(latentProblem.numItems) : null,
        hyper: h,
        seed: 999, // ignored when resuming
        threads: 1,
        kernel: tsKernel,
        initial: first.state,
        initialEpoch: 3,
      });
      const m4 = await trainer.epoch();
      const m5 = await trainer.epoch();
      const resumed = trainer.state();
      await trainer.close();
      expect([m4.epoch, m5.epoch]).toEqual([4, 5]);
      expect(m5.loss).toBe(full.history[4]!.loss);
      expect(resumed.userFactors).toEqual(full.state.userFactors);
      expect(resumed.itemFactors).toEqual(full.state.itemFactors);
      expect(resumed.genreFactors).toEqual(full.state.genreFactors);
    }
  });

  it('folds in a user exactly as one more user-side update', async () => {
    const h = hyper('latent', { weightedRegularization: true, tau: 0.05, gamma: 0.05 });
    const { state } = await train(latentProblem, h, 4);
    const K = state.hyper.dim;
    const byUser = latentProblem.train.ratingsByUser;
    const userFactors = state.userFactors.slice();
    const userBias = state.userBias.slice();
    createTsSolveRows()(
      {
        dim: K,
        offsets: byUser.offsets,
        indices: byUser.indices,
        values: byUser.values,
        otherFactors: state.itemFactors,
        otherBias: state.itemBias,
        rowFactors: userFactors,
        rowBias: userBias,
        priorMeans: null,
        globalMean: state.globalMean,
        lambda: h.lambda,
        tau: h.tau,
        gamma: h.gamma,
        weightedRegularization: true,
      },
      0,
      state.numUsers,
    );
    for (const m of [0, 7, 42]) {
      const start = byUser.offsets[m]!;
      const end = byUser.offsets[m + 1]!;
      const folded = foldInUser(
        state,
        h,
        byUser.indices.slice(start, end),
        byUser.values.slice(start, end),
      );
      expect(folded.bias).toBe(userBias[m]);
      expect(Array.from(folded.factors)).toEqual(
        Array.from(userFactors.subarray(m * K, (m + 1) * K)),
      );
    }
  });

  it('folds in a movie exactly as one more item-side update (genre prior included)', async () => {
    const h = hyper('genre', { weightedRegularization: true, tau: 0.05, gamma: 0.05 });
    const { state } = await train(latentProblem, h, 3);
    const K = state.hyper.dim;
    const genres = genresFor(latentProblem.numItems);
    const priors = new Float64Array(latentProblem.numItems * K);
    computeGenrePriors(state.genreFactors, K, genres, latentProblem.numItems, priors);
    const byItem = latentProblem.train.ratingsByItem;
    const itemFactors = state.itemFactors.slice();
    const itemBias = state.itemBias.slice();
    createTsSolveRows()(
      {
        dim: K,
        offsets: byItem.offsets,
        indices: byItem.indices,
        values: byItem.values,
        otherFactors: state.userFactors,
        otherBias: state.userBias,
        rowFactors: itemFactors,
        rowBias: itemBias,
        priorMeans: priors,
        globalMean: state.globalMean,
        lambda: h.lambda,
        tau: h.tau,
        gamma: h.gamma,
        weightedRegularization: true,
      },
      0,
      state.numItems,
    );
    for (const n of [0, 5, 30]) {
      const start = byItem.offsets[n]!;
      const end = byItem.offsets[n + 1]!;
      const ids = genres.ids.subarray(genres.offsets[n], genres.offsets[n + 1]);
      const folded = foldInItem(
        state,
        h,
        byItem.indices.slice(start, end),
        byItem.values.slice(start, end),
        ids,
      );
      expect(folded.bias).toBeCloseTo(itemBias[n]!, 12);
      for (let k = 0; k < K; k++)
        expect(folded.factors[k]).toBeCloseTo(itemFactors[n * K + k]!, 12);
    }
  });

  it('reports divergence as a DivergenceError', async () => {
    // τ = γ = 0 with a rank-deficient problem cannot be solved: rows become NaN, the loss NaN.
    const p = plantedProblem({
      numUsers: 10,
      numItems: 4,
      rank: 1,
      density: 0.3,
      noiseStd: 0.1,
      seed: 4,
    });
    const trainer = await createTrainer({
      train: p.train,
      validation: null,
      itemGenres: null,
      hyper: hyper('latent', { dim: 8, tau: 0, gamma: 0 }),
      seed: 1,
      threads: 1,
      kernel: tsKernel,
    });
    await expect(trainer.epoch()).rejects.toBeInstanceOf(DivergenceError);
    await trainer.close();
  });

  it('trains on an empty split without crashing: every prediction is the (zero) global mean', async () => {
    const empty = plantedProblem({
      numUsers: 5,
      numItems: 4,
      rank: 2,
      density: 0,
      noiseStd: 0.1,
      seed: 5,
    });
    for (const threads of [1, 2]) {
      const trainer = await createTrainer({
        train: empty.train,
        validation: null,
        itemGenres: genresFor(4),
        hyper: hyper('genre'),
        seed: 1,
        threads,
        kernel: tsKernel,
      });
      const m = await trainer.epoch();
      expect(m.trainRmse).toBe(0);
      expect(Number.isFinite(m.loss)).toBe(true);
      const state = trainer.state();
      expect(predict(state, 2, 3)).toBe(0);
      await trainer.close();
    }
  });

  it("the trainer's genre step solves the genre normal equations and gives computeGenrePriors' priors bit for bit", () => {
    const K = 3;
    const numItems = latentProblem.numItems;
    const genres = genresFor(numItems);
    const itemCounts = latentProblem.train.ratingsByItem.offsets;
    const h = hyper('genre', {
      tau: 0.7,
      genreTau: 0.3,
      weightedRegularization: true,
      weightExponent: 0.5,
    });
    const itemFactors = Float64Array.from({ length: numItems * K }, (_, i) => Math.sin(i * 1.7));
    const step = createGenreUpdate(genres, itemCounts, K, h);
    const F = new Float64Array(genres.numGenres * K);
    step.updateFactors(itemFactors, F);
    // (τ Wᵀ S W + τ_g I) F = τ Wᵀ S V, built densely here and checked row by row.
    const G = genres.numGenres;
    const lhs = Array.from({ length: G }, (_, g) =>
      Array.from({ length: G }, (_, h2) => (g === h2 ? h.genreTau : 0)),
    );
    const rhs = Array.from({ length: G }, () => new Array<number>(K).fill(0));
    for (let n = 0; n < numItems; n++) {
      const count = itemCounts[n + 1]! - itemCounts[n]!;
      const ids = genres.ids.subarray(genres.offsets[n], genres.offsets[n + 1]);
      if (count === 0 || ids.length === 0) continue;
      const s = Math.sqrt(count);
      const w = 1 / Math.sqrt(ids.length);
      for (const a of ids) {
        for (const b of ids) lhs[a]![b]! += h.tau * s * w * w;
        for (let k = 0; k < K; k++) rhs[a]![k]! += h.tau * s * w * itemFactors[n * K + k]!;
      }
    }
    for (let g = 0; g < G; g++) {
      for (let k = 0; k < K; k++) {
        let row = 0;
        for (let b = 0; b < G; b++) row += lhs[g]![b]! * F[b * K + k]!;
        expect(row).toBeCloseTo(rhs[g]![k]!, 10);
      }
    }
    // The priors, once per distinct genre list, are the reference function's numbers exactly.
    const expected = new Float64Array(numItems * K);
    computeGenrePriors(F, K, genres, numItems, expected);
    const priors = new Float64Array(numItems * K).fill(7);
    step.computePriors(F, priors);
    expect(priors).toEqual(expected);
    expect(Array.from(priors.subarray(5 * K, 6 * K))).toEqual([0, 0, 0]); // movie 5 has no genres
    // And updateGenreFactors, the one-off form, gives the same F.
    const again = new Float64Array(G * K);
    updateGenreFactors(itemFactors, itemCounts, K, h.tau, h.genreTau, true, genres, again, 0.5);
    expect(again).toEqual(F);
  });

  it('sums the squared errors four ratings at a time to exactly the one-at-a-time sum', () => {
    const byUser = latentProblem.train.ratingsByUser;
    const K = 3;
    const X = Float64Array.from({ length: latentProblem.numUsers * K }, (_, i) => Math.sin(i));
    const Y = Float64Array.from({ length: latentProblem.numItems * K }, (_, i) =>
      Math.cos(i * 0.3),
    );
    const rowBias = Float64Array.from({ length: latentProblem.numUsers }, (_, i) => i * 1e-3);
    const otherBias = Float64Array.from({ length: latentProblem.numItems }, (_, i) => -i * 1e-3);
    const args = {
      ...hyper('latent'),
      offsets: byUser.offsets,
      indices: byUser.indices,
      values: byUser.values,
      otherFactors: Y,
      otherBias,
      rowFactors: X,
      rowBias,
      priorMeans: null,
      globalMean: 3.3,
    };
    const oneAtATime = (rowStart: number, rowEnd: number): number => {
      let sum = 0;
      for (let r = rowStart; r < rowEnd; r++) {
        for (let e = byUser.offsets[r]!; e < byUser.offsets[r + 1]!; e++) {
          const j = byUser.indices[e]!;
          let prediction = 3.3 + rowBias[r]! + otherBias[j]!;
          for (let k = 0; k < K; k++) prediction += X[r * K + k]! * Y[j * K + k]!;
          const d = byUser.values[e]! - prediction;
          sum += d * d;
        }
      }
      return sum;
    };
    // Whole and partial ranges; rows have all sorts of lengths, so every remainder mod 4 occurs.
    for (const [a, b] of [
      [0, latentProblem.numUsers],
      [3, 4],
      [10, 17],
    ] as const)
      expect(squaredErrorSum(args, a, b)).toBe(oneAtATime(a, b));
  });

  it('splits rows by rating count, not row count', () => {
    // One heavy row (100 ratings) then 100 rows of 1: two parts cut right after the heavy row.
    const offsets = new Int32Array(102);
    offsets[1] = 100;
    for (let r = 2; r <= 101; r++) offsets[r] = offsets[r - 1]! + 1;
    const chunks = splitRowsByCost(offsets, 101, 2, 0);
    expect(chunks).toEqual([
      [0, 1],
      [1, 101],
    ]);
  });
});

describe('trainer memory', () => {
  it("holds the training matrix once: the caller's indexes are re-pointed at the arena copies", async () => {
    const p = plantedProblem({
      numUsers: 60,
      numItems: 40,
      rank: 2,
      density: 0.5,
      noiseStd: 0.3,
      seed: 4,
      testFraction: 0.1,
      emptyItems: 1,
    });
    const before = {
      user: {
        ...p.train.ratingsByUser,
        indices: p.train.ratingsByUser.indices.slice(0, p.train.numRatings),
        values: p.train.ratingsByUser.values.slice(0, p.train.numRatings),
      },
      item: {
        ...p.train.ratingsByItem,
        indices: p.train.ratingsByItem.indices.slice(0, p.train.numRatings),
        values: p.train.ratingsByItem.values.slice(0, p.train.numRatings),
      },
    };
    const originalUserIndices = p.train.ratingsByUser.indices;
    const heldOut = {
      users: p.test.users.slice(),
      items: p.test.items.slice(),
      values: p.test.values.slice(),
    };
    const trainer = await createTrainer({
      train: p.train,
      validation: p.test,
      itemGenres: null,
      hyper: hyper('latent'),
      seed: 2,
      threads: 2,
      kernel: tsKernel,
    });
    const first = await trainer.epoch();
    for (const [side, index] of [
      ['user', p.train.ratingsByUser],
      ['item', p.train.ratingsByItem],
    ] as const) {
      // The same contents, now in the trainer's shared arena (one buffer for all six arrays).
      expect(index.indices.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(index.values.buffer).toBe(index.indices.buffer);
      expect(index.offsets.buffer).toBe(index.indices.buffer);
      expect(Array.from(index.offsets)).toEqual(Array.from(before[side].offsets));
      expect(Array.from(index.indices)).toEqual(Array.from(before[side].indices));
      expect(Array.from(index.values)).toEqual(Array.from(before[side].values));
    }
    expect(p.train.ratingsByUser.indices).not.toBe(originalUserIndices);
    // The held-out ratings too (the workers score them), same contents.
    expect(p.test.users.buffer).toBe(p.train.ratingsByUser.indices.buffer);
    expect(p.test.items.buffer).toBe(p.test.users.buffer);
    expect(p.test.values.buffer).toBe(p.test.users.buffer);
    expect(p.test.users).toEqual(heldOut.users);
    expect(p.test.items).toEqual(heldOut.items);
    expect(p.test.values).toEqual(heldOut.values);
    // Its validation RMSE is rmse() of the epoch's model.
    expect(first.validationRmse).toBe(rmse(trainer.state(), p.test));
    await trainer.close();
    // A second trainer on the re-pointed matrix (copying out of the first arena) trains the same model.
    const again = await createTrainer({
      train: p.train,
      validation: p.test,
      itemGenres: null,
      hyper: hyper('latent'),
      seed: 2,
      threads: 1,
      kernel: tsKernel,
    });
    expect((await again.epoch()).loss).toBe(first.loss);
    await again.close();
  });
});
