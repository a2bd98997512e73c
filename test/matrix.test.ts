import { describe, expect, it } from 'vitest';
import { buildRatingMatrix, matrixToRatingList } from '../src/data/matrix.js';
import type { RatingList } from '../src/data/types.js';

function list(rows: [number, number, number, number][]): RatingList {
  return {
    length: rows.length,
    users: Int32Array.from(rows.map((r) => r[0])),
    items: Int32Array.from(rows.map((r) => r[1])),
    values: Float32Array.from(rows.map((r) => r[2])),
    timestamps: Int32Array.from(rows.map((r) => r[3])),
  };
}

describe('buildRatingMatrix', () => {
  const ratings = list([
    [1, 2, 4, 10],
    [0, 1, 3.5, 11],
    [1, 0, 5, 12],
    [0, 2, 1, 13],
    [2, 1, 2.5, 14],
  ]);

  it('indexes by user with items sorted, and by item with users sorted', () => {
    const { matrix, timestampsByUser } = buildRatingMatrix(3, 4, ratings);
    expect(matrix.numRatings).toBe(5);
    expect([...matrix.ratingsByUser.offsets]).toEqual([0, 2, 4, 5]);
    expect([...matrix.ratingsByUser.indices]).toEqual([1, 2, 0, 2, 1]);
    expect([...matrix.ratingsByUser.values]).toEqual([3.5, 1, 5, 4, 2.5]);
    expect([...timestampsByUser!]).toEqual([11, 13, 12, 10, 14]);
    // Item 3 is never rated: an empty column, still indexed.
    expect([...matrix.ratingsByItem.offsets]).toEqual([0, 1, 3, 5, 5]);
    expect([...matrix.ratingsByItem.indices]).toEqual([1, 0, 2, 0, 1]);
    expect([...matrix.ratingsByItem.values]).toEqual([5, 3.5, 2.5, 1, 4]);
  });

  it('indexes only the kept ratings, and round-trips to coordinate form', () => {
    const keep = Uint8Array.from([1, 0, 1, 1, 0]);
    const { matrix } = buildRatingMatrix(3, 4, ratings, keep);
    expect(matrix.numRatings).toBe(3);
    const back = matrixToRatingList(matrix);
    expect([...back.users]).toEqual([0, 1, 1]);
    expect([...back.items]).toEqual([2, 0, 2]);
    expect([...back.values]).toEqual([1, 5, 4]);
  });
});

describe('buildRatingMatrix on shuffled input with long rows and repeats', () => {
  it('matches a reference built by sorting (user, item, input position)', async () => {
    const { Random } = await import('../src/core/random.js');
    const random = new Random(3);
    const numUsers = 40;
    const numItems = 700; // > 256 items: several bands in the CSC scatter
    const n = 6000; // rows of ~150: the long-row sort path; repeats of (user, item) occur
    const rows: [number, number, number, number][] = [];
    for (let k = 0; k < n; k++)
      rows.push([
        random.nextInt(numUsers),
        random.nextInt(numItems),
        0.5 * (1 + random.nextInt(10)),
        k,
      ]);
    const { matrix, timestampsByUser } = buildRatingMatrix(numUsers, numItems, list(rows));
    const byUser = [...rows].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[3] - b[3]);
    expect([...matrix.ratingsByUser.indices]).toEqual(byUser.map((r) => r[1]));
    expect([...matrix.ratingsByUser.values]).toEqual(byUser.map((r) => r[2]));
    expect([...timestampsByUser!]).toEqual(byUser.map((r) => r[3])); // stable: repeats keep input order
    const byItem = [...byUser].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect([...matrix.ratingsByItem.indices]).toEqual(byItem.map((r) => r[0]));
    expect([...matrix.ratingsByItem.values]).toEqual(byItem.map((r) => r[2]));
    for (let u = 0; u < numUsers; u++)
      expect(matrix.ratingsByUser.offsets[u + 1]! - matrix.ratingsByUser.offsets[u]!).toBe(
        rows.filter((r) => r[0] === u).length,
      );
  });
});
