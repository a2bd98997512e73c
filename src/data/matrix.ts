import type { RatingList, RatingMatrix } from './types.js';

/** The result of indexing a rating list: both sparse indexes, plus timestamps in CSR order. */
export interface IndexedRatings {
  matrix: RatingMatrix;
  /** timestamps aligned with matrix.ratingsByUser entries, or null if the list had none. */
  timestampsByUser: Int32Array | null;
}

/**
 * Builds the CSR (by user) and CSC (by item) indexes from ratings in coordinate form, in O(n)
 * with counting sorts and no per-rating objects.
 *
 * `keep`, if given, selects the ratings to index (keep[k] !== 0), so a split's training part is
 * built without copying the list first.
 *
 * Three passes keep every row sorted: bucketing by item first means that scattering into user
 * rows visits items in ascending order (sorted CSR rows); scattering the sorted CSR into item
 * columns then visits users in ascending order (sorted CSC columns).
 */
export function buildRatingMatrix(
  numUsers: number,
  numItems: number,
  list: RatingList,
  keep?: Uint8Array,
): IndexedRatings {
  const { users, items, values, timestamps } = list;
  const n = list.length;

  // Pass A: order rating positions by item (stable).
  const itemOffsets = new Int32Array(numItems + 1);
  let kept = 0;
  for (let k = 0; k < n; k++) {
    if (keep !== undefined && keep[k] === 0) continue;
    itemOffsets[items[k]! + 1]!++;
    kept++;
  }
  for (let i = 0; i < numItems; i++) itemOffsets[i + 1]! += itemOffsets[i]!;
  const byItemOrder = new Int32Array(kept);
  const itemCursor = itemOffsets.slice(0, numItems);
  for (let k = 0; k < n; k++) {
    if (keep !== undefined && keep[k] === 0) continue;
    byItemOrder[itemCursor[items[k]!]!++] = k;
  }

  // Pass B: scatter into user rows in item order → CSR with ascending items per row.
  const userOffsets = new Int32Array(numUsers + 1);
  for (let p = 0; p < kept; p++) userOffsets[users[byItemOrder[p]!]! + 1]!++;
  for (let u = 0; u < numUsers; u++) userOffsets[u + 1]! += userOffsets[u]!;
  const userCursor = userOffsets.slice(0, numUsers);
  const csrItems = new Int32Array(kept);
  const csrValues = new Float32Array(kept);
  const csrTimes = timestamps ? new Int32Array(kept) : null;
  for (let p = 0; p < kept; p++) {
    const k = byItemOrder[p]!;
    const dst = userCursor[users[k]!]!++;
    csrItems[dst] = items[k]!;
    csrValues[dst] = values[k]!;
    if (csrTimes !== null) csrTimes[dst] = timestamps![k]!;
  }

  // Pass C: scatter the sorted CSR into item columns → CSC with ascending users per column.
  itemCursor.set(itemOffsets.subarray(0, numItems));
  const cscUsers = new Int32Array(kept);
  const cscValues = new Float32Array(kept);
  for (let u = 0; u < numUsers; u++) {
    const end = userOffsets[u + 1]!;
    for (let e = userOffsets[u]!; e < end; e++) {
      const dst = itemCursor[csrItems[e]!]!++;
      cscUsers[dst] = u;
      cscValues[dst] = csrValues[e]!;
    }
  }

  return {
    matrix: {
      numUsers,
      numItems,
      numRatings: kept,
      ratingsByUser: { offsets: userOffsets, indices: csrItems, values: csrValues },
      ratingsByItem: { offsets: itemOffsets, indices: cscUsers, values: cscValues },
    },
    timestampsByUser: csrTimes,
  };
}

/** The ratings of a matrix in coordinate form, in CSR order (by user, then item). */
export function matrixToRatingList(matrix: RatingMatrix, timestampsByUser: Int32Array | null = null): RatingList {
  const { offsets, indices, values } = matrix.ratingsByUser;
  const n = matrix.numRatings;
  const users = new Int32Array(n);
  for (let u = 0; u < matrix.numUsers; u++) users.fill(u, offsets[u]!, offsets[u + 1]!);
  return {
    length: n,
    users,
    items: indices.slice(0, n),
    values: values.slice(0, n),
    timestamps: timestampsByUser ? timestampsByUser.slice(0, n) : null,
  };
}
