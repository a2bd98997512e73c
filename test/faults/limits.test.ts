/** Unbounded sizes: validateTrainingSize checks dim, threads and memory before anything is allocated. */
import { describe, expect, it } from 'vitest';
import { MAX_WASM_DIM } from '../../src/core/kernel-wasm.js';
import {
  estimateTrainingBytes,
  MAX_DIM,
  validateTrainingSize,
  type TrainingSizeRequest,
} from '../../src/core/limits.js';
import { caught, expectOneLine } from './helpers.js';

// MovieLens-32M-like sizes.
const request: TrainingSizeRequest = {
  kind: 'latent',
  dim: 30,
  numUsers: 200_948,
  numItems: 84_432,
  numRatings: 32_000_204,
  numGenres: 19,
  threads: 2,
  kernel: 'wasm',
  cores: 2,
  memoryBytes: 16 * 2 ** 30,
};

describe('validateTrainingSize', () => {
  it('the defaults pass unchanged, with no note', () => {
    const plan = validateTrainingSize(request);
    expect(plan).toMatchObject({ dim: 30, threads: 2, kernel: 'wasm', notes: [] });
    // CSR + CSC of 32M ratings alone are 768 MB; factors at dim 30 add ~140 MB.
    expect(plan.estimatedBytes / 2 ** 20).toBeGreaterThan(900);
    expect(plan.estimatedBytes / 2 ** 20).toBeLessThan(1300);
  });

  it(`--dim above the wasm kernel's ${MAX_WASM_DIM} falls back to the TS kernel, with a note`, () => {
    const plan = validateTrainingSize({ ...request, dim: MAX_WASM_DIM + 1 });
    expect(plan.kernel).toBe('ts');
    expect(plan.notes).toEqual([
      `dim 241 is above the wasm kernel's maximum ${MAX_WASM_DIM}: using the TS kernel`,
    ]);
    expect(validateTrainingSize({ ...request, dim: MAX_WASM_DIM }).kernel).toBe('wasm');
  });

  it('--dim 20000 or 100000 is refused with the maximum, before any allocation', () => {
    expectOneLine(
      caught(() => validateTrainingSize({ ...request, dim: 20_000 })),
      new RegExp(`--dim 20000 is not supported: the maximum is ${MAX_DIM}`),
    );
    expectOneLine(
      caught(() => validateTrainingSize({ ...request, dim: 100_000 })),
      /the maximum is 1000/,
    );
    expectOneLine(
      caught(() => validateTrainingSize({ ...request, dim: 2.5 })),
      /not supported/,
    );
  });

  it('--threads 1000 is capped at 4 × cores with a one-line note', () => {
    const plan = validateTrainingSize({ ...request, threads: 1000 });
    expect(plan.threads).toBe(8);
    expect(plan.notes).toEqual(['--threads 1000 capped at 8 (4 × 2 cores)']);
    expectOneLine(
      caught(() => validateTrainingSize({ ...request, threads: 0 })),
      /--threads 0 must be a whole number/,
    );
  });

  it('a run that does not fit in memory is refused with the estimate', () => {
    expectOneLine(
      caught(() => validateTrainingSize({ ...request, dim: 1000, memoryBytes: 4 * 2 ** 30 })),
      /training needs about \d+ MiB \(dim 1000, 200948 users, 84432 movies, 2 threads\) but only 4096 MiB is available: lower --dim or --threads/,
    );
    expect(validateTrainingSize({ ...request, memoryBytes: null }).estimatedBytes).toBe(
      estimateTrainingBytes(request),
    );
  });

  it('the bias model has no dimension', () => {
    expect(validateTrainingSize({ ...request, kind: 'bias', dim: 99_999 }).dim).toBe(0);
  });
});
