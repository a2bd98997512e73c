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
