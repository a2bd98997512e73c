import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';

describe('Random', () => {
  it('is reproducible from the seed and differs across seeds', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('gives uniform floats and standard normals with the right moments', () => {
    const rng = new Random(7);
    const n = 200_000;
    let sum = 0;
    let sumG = 0;
    let sumG2 = 0;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat();
      if (!(u >= 0 && u < 1)) outOfRange++;
      sum += u;
      const g = rng.nextGaussian();
      sumG += g;
      sumG2 += g * g;
    }
    expect(outOfRange).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumG / n).toBeCloseTo(0, 1);
    expect(sumG2 / n).toBeCloseTo(1, 1);
  });
});
