/**
 * Top-n lists for every training user at once, ranked as src/core/recommend.ts ranks one user
 * (RankBy): the batch scorer (./batch-pool.ts) computes base_u + c'_e + u·v'_e over the eligible
 * movies e, so each ranking is expressed in that form:
 *   rating: base_u = μ + b_u, c'_e = c_e, v'_e = v_e          → μ + b_u + c_e + u·v_e
 *   taste:  base_u = 0,       c'_e = 0,   v'_e = v_e / ‖v_e‖  → u·v_e / ‖v_e‖ (0 for a zero vector)
 * The returned scores are the predicted ratings r̂ = μ + b_u + c_e + u·v_e whatever the ranking
 * (under taste, u·v_e = ‖v_e‖ · score), not clipped, as recommendForUser returns them.
 */
import { batchTopN } from './batch-pool.js';
import { compactEligible } from './batch.js';
import { rowNorms, type RankBy } from './recommend.js';
import type { ModelState } from './types.js';

export interface AllUsersTopN {
  /** numUsers × n movie indices (-1 past the end of a short list). */
  items: Int32Array;
  /** numUsers × n predicted ratings. */
  scores: Float64Array;
  n: number;
  numEligible: number;
}

export async function recommendAllUsers(
  model: ModelState,
  eligible: Uint8Array,
  exclude: { offsets: Int32Array; items: Int32Array },
  n: number,
  rankBy: RankBy,
  threads: number,
): Promise<AllUsersTopN> {
  const compact = compactEligible(model, eligible);
  const dim = model.hyper.dim;
  const norms = rowNorms(compact.eligibleFactors, dim, compact.numEligible);
  const rankingFactors = compact.eligibleFactors.slice();
  if (rankBy === 'taste') {
    for (let e = 0; e < compact.numEligible; e++) {
      for (let k = 0; k < dim; k++)
        rankingFactors[e * dim + k] = norms[e]! > 0 ? rankingFactors[e * dim + k]! / norms[e]! : 0;
    }
  }
  const rankingBias =
    rankBy === 'taste' ? new Float64Array(compact.numEligible) : compact.eligibleBias;
  const userBase = new Float64Array(model.numUsers);
  if (rankBy === 'rating')
    for (let u = 0; u < model.numUsers; u++) userBase[u] = model.globalMean + model.userBias[u]!;
  const positionOf = new Int32Array(model.numItems);
  for (let e = 0; e < compact.eligibleItems.length; e++) positionOf[compact.eligibleItems[e]!] = e;
  const items = new Int32Array(model.numUsers * n);
  const scores = new Float64Array(model.numUsers * n);
  await batchTopN(
    {
      dim,
      ...compact,
      eligibleFactors: rankingFactors,
      eligibleBias: rankingBias,
      userFactors: model.userFactors,
      userBase,
      excludeOffsets: exclude.offsets,
      excludeIndices: exclude.items,
      topN: n,
      outItems: items,
      outScores: scores,
    },
    threads,
  );
  if (rankBy === 'taste') {
    for (let u = 0; u < model.numUsers; u++) {
      for (let k = 0; k < n; k++) {
        const item = items[u * n + k]!;
        if (item < 0) break;
        scores[u * n + k] =
          model.globalMean +
          model.userBias[u]! +
          model.itemBias[item]! +
          norms[positionOf[item]!]! * scores[u * n + k]!;
      }
    }
  }
  return { items, scores, n, numEligible: compact.numEligible };
}
