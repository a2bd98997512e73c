/**
 * Size limits of training and of stored models, and the checks that enforce them before any
 * large allocation. Pure: the caller passes the machine's figures (cores, memory) in.
 */
import { AlsError } from '../errors.js';
import { MAX_WASM_DIM } from './kernel-wasm.js';

/**
 * The largest latent dimension als trains or loads. Each row solve is a dense (K+1)×(K+1)
 * Cholesky, O(K³): at K = 1000 one solve is ~3·10⁸ flops, so an epoch over 10⁵ rows already takes
 * hours; larger K is never useful for MovieLens-sized data and only risks an allocation blow-up.
 */
export const MAX_DIM = 1000;

/** Threads per core beyond which more threads only cost memory (each worker has its own heap). */
export const MAX_THREADS_PER_CORE = 4;

/** What validateTrainingSize needs to know. */
export interface TrainingSizeRequest {
  kind: 'bias' | 'latent' | 'genre';
  dim: number;
  numUsers: number;
  numItems: number;
  numRatings: number;
  numGenres: number;
  threads: number;
  kernel: 'ts' | 'wasm';
  /** Logical cores of the machine (os.availableParallelism()). */
  cores: number;
  /** Bytes that may be allocated (e.g. os.totalmem() or a cgroup limit); null = do not check. */
  memoryBytes: number | null;
}

/** The adjusted settings, the estimate, and one-line notes for each adjustment made. */
export interface TrainingSizePlan {
  dim: number;
  threads: number;
  kernel: 'ts' | 'wasm';
  estimatedBytes: number;
  notes: string[];
}

/** Per-worker overhead (V8 isolate, heap, the kernel's module instance). */
const WORKER_BYTES = 40 << 20;
/** Fixed overhead of the main process (V8, modules, the loaded data set's catalogue). */
const BASE_BYTES = 120 << 20;

/**
 * Memory the trainer will allocate, in bytes (an estimate, within a factor ~1.5):
 *   factors and biases  8 (U + I)(K + 1) + 8 G K      (Float64, plus a copy for early stopping)
 *   ratings CSR + CSC   2 · 12 R                      (int32 offsets, int32 index, float32 value)
 *   per-thread scratch  8 (K + 1)² + 16 · 8 K         (Gram matrix, gathered vectors)
 *   workers             WORKER_BYTES each, and BASE_BYTES for the process.
 */
export function estimateTrainingBytes(
  r: Pick<
    TrainingSizeRequest,
    'dim' | 'numUsers' | 'numItems' | 'numRatings' | 'numGenres' | 'threads'
  >,
): number {
  const k = r.dim;
  const factors = 2 * 8 * (r.numUsers + r.numItems) * (k + 1) + 8 * r.numGenres * k;
  const ratings = 2 * 12 * r.numRatings + 4 * (r.numUsers + r.numItems);
  const scratch = r.threads * (8 * (k + 1) * (k + 1) + 16 * 8 * k);
  return BASE_BYTES + factors + ratings + scratch + Math.max(0, r.threads - 1) * WORKER_BYTES;
}

const mib = (bytes: number): string => `${Math.ceil(bytes / 2 ** 20)} MiB`;

/**
 * Checks a training request before anything is allocated:
 * - dim: an integer in 0…MAX_DIM, else refused; above MAX_WASM_DIM the wasm kernel falls back to
 *   the TS kernel (the only one that can), with a note;
 * - threads: an integer ≥ 1; above MAX_THREADS_PER_CORE × cores it is capped, with a note;
 * - memory: the estimate must fit memoryBytes (when given), else refused with the estimate.
 */
export function validateTrainingSize(request: TrainingSizeRequest): TrainingSizePlan {
  const notes: string[] = [];
  const dim = request.kind === 'bias' ? 0 : request.dim;
  if (!Number.isInteger(dim) || dim < 0 || dim > MAX_DIM) {
    throw new AlsError(`--dim ${request.dim} is not supported: the maximum is ${MAX_DIM}`);
  }
  let kernel = request.kernel;
  if (kernel === 'wasm' && dim > MAX_WASM_DIM) {
    kernel = 'ts';
    notes.push(
      `dim ${dim} is above the wasm kernel's maximum ${MAX_WASM_DIM}: using the TS kernel`,
    );
  }
  if (!Number.isInteger(request.threads) || request.threads < 1)
    throw new AlsError(`--threads ${request.threads} must be a whole number ≥ 1`);
  const maxThreads = Math.max(1, MAX_THREADS_PER_CORE * Math.max(1, request.cores));
  let threads = request.threads;
  if (threads > maxThreads) {
    threads = maxThreads;
    notes.push(
      `--threads ${request.threads} capped at ${maxThreads} (${MAX_THREADS_PER_CORE} × ${request.cores} cores)`,
    );
  }
  const estimatedBytes = estimateTrainingBytes({ ...request, dim, threads });
  if (request.memoryBytes !== null && estimatedBytes > request.memoryBytes) {
    throw new AlsError(
      `training needs about ${mib(estimatedBytes)} (dim ${dim}, ${request.numUsers} users, ${request.numItems} movies, ${threads} threads) but only ${mib(request.memoryBytes)} is available: lower --dim or --threads`,
    );
  }
  return { dim, threads, kernel, estimatedBytes, notes };
}
