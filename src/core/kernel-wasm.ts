/**
 * The WebAssembly SIMD half-epoch kernel (`--kernel wasm`): the AssemblyScript code in
 * src/core/wasm/kernel.ts, compiled by `npm run build` to dist/core/kernel.wasm, instantiated once
 * per thread over one shared WebAssembly.Memory that also holds every array of the trainer.
 *
 * Memory layout (byte offsets; the module itself has no data segments, globals or heap):
 *
 *   [0, 64 KiB)                     unused: keeps byte offset 0 free to mean "no prior means"
 *   [64 KiB, 64 KiB + 4 KiB)        SCRATCH_SLOTS lock words (Int32; 1 = a call is using that slot),
 *                                   then a ticket counter and probe words used by createSolver
 *   [128 KiB, RESERVED_BYTES)       SCRATCH_SLOTS × 512 KiB of per-call scratch (the call's argument
 *                                   block, then the Gram matrix, rhs, one block of gathered float32
 *                                   vectors; kernel's scratchBytes(dim)),
 *                                   one slot per concurrently running call: 32.1 MiB in all
 *   [RESERVED_BYTES, end)           the arena: the trainer's typed arrays (SharedArena bump allocator)
 *
 * Every concurrent SolveRows call (one per worker thread) claims a free slot with an atomic
 * compare-and-exchange for its duration, so solvers may be created and dropped freely (a worker
 * restart cannot leak a slot unless it dies in the middle of a call). Untouched scratch pages cost
 * no resident memory.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { AlsError } from '../errors.js';
import { SharedArena } from './arena.js';
import {
  biasRidgeWeighted,
  type HalfEpochArgs,
  type KernelProvider,
  packedRowWidth,
  type SolveRows,
  type SquaredErrors,
} from './kernel.js';

const PAGE_BYTES = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_PAGES = 65536;
const CONTROL_OFFSET = 64 * 1024;
/** Concurrent kernel calls over one memory (one per worker thread). */
export const SCRATCH_SLOTS = 64;
const TICKET_WORD = SCRATCH_SLOTS; // Int32 index, after the lock words
const PROBE_WORD = SCRATCH_SLOTS + 1;
const PROBE_WORDS = 512;
const SCRATCH_OFFSET = 128 * 1024;
const SCRATCH_SLOT_BYTES = 512 * 1024;
/** Bytes below the arena that the kernel keeps for itself. */
export const RESERVED_BYTES = SCRATCH_OFFSET + SCRATCH_SLOTS * SCRATCH_SLOT_BYTES;
/** The largest latent dimension whose (K+1)×(K+1) scratch fits a slot. */
export const MAX_WASM_DIM = 240;

/**
 * The byte offsets of a call's argument block, at the start of its scratch slot: the same as the
 * P_… constants of ./wasm/kernel.ts (checked against its paramBytes() when a solver is made).
 */
const PARAM = {
  mode: 0,
  dim: 4,
  rowStart: 8,
  rowEnd: 12,
  weighted: 16,
  weightedBias: 20,
  offsets: 24,
  indices: 28,
  values: 32,
  otherFactors: 36,
  otherBias: 40,
  rowFactors: 44,
  rowBias: 48,
  priorMeans: 52,
  otherPacked: 56,
  rowPacked: 60,
  priorPrecision: 64,
  priorMean: 68,
  normals: 72,
  globalMean: 80,
  lambda: 88,
  tau: 96,
  gamma: 104,
  weightExponent: 112,
  result: 120,
} as const;
const PARAM_BYTES = 128;

/** What one call does (P_MODE): solve (or, with sampling arguments, draw), or a benchmark's part of it. */
const MODES = { solveRows: 0, accumulateRows: 1, gatherRows: 2, squaredErrors: 3 } as const;

interface KernelExports {
  /** Runs the call whose argument block is at this byte offset (see PARAM). */
  run(block: number): void;
  paramBytes(): number;
  scratchBytes(dim: number): number;
}

let modulePromise: Promise<WebAssembly.Module> | null = null;

/**
 * Compiles dist/core/kernel.wasm once per thread. It sits next to the compiled kernel-wasm.js;
 * when this file runs from src/ (vitest), `../../dist/core/` resolves to the same built file.
 */
export function loadKernelModule(): Promise<WebAssembly.Module> {
  modulePromise ??= (async () => {
    const candidates = [
      new URL('./kernel.wasm', import.meta.url),
      new URL('../../dist/core/kernel.wasm', import.meta.url),
    ];
    for (const url of candidates) {
      let bytes: Buffer;
      try {
        bytes = await readFile(fileURLToPath(url));
      } catch {
        continue;
      }
      // V8 first runs wasm in its baseline compiler and swaps in optimised code only for later
      // calls (no on-stack replacement): a whole half-epoch is one call, so the first epoch
      // would run ≈ 1.7× slower (measured). And it compiles each function lazily on its first
      // call, which also made the first half-epoch ≈ 0.09 s slower. Compile optimised code up
      // front instead: the module is small, and these flags only change how wasm is compiled,
      // never what it computes.
      v8.setFlagsFromString('--no-wasm-dynamic-tiering');
      v8.setFlagsFromString('--no-wasm-lazy-compilation');
      return WebAssembly.compile(bytes);
    }
    throw new AlsError(
      `the wasm kernel is not built: ${fileURLToPath(candidates[0]!)} is missing (run 'npm run build')`,
    );
  })();
  modulePromise.catch(() => {
    modulePromise = null;
  });
  return modulePromise;
}

/** A shared WebAssembly.Memory with RESERVED_BYTES for the kernel and at least `byteLength` for the arena. */
function createKernelMemory(byteLength: number): WebAssembly.Memory {
  const pages = Math.ceil((RESERVED_BYTES + byteLength) / PAGE_BYTES);
  if (pages > MAX_PAGES) {
    throw new AlsError(
      `the wasm kernel needs ${((RESERVED_BYTES + byteLength) / 2 ** 30).toFixed(2)} GiB of shared memory, more than WebAssembly's 4 GiB: use --kernel ts`,
    );
  }
  // maximum = initial: the arena never grows, and V8 reserves address space up to the maximum.
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

type KernelArray = Int32Array | Float32Array | Float64Array;

export const wasmKernel: KernelProvider = {
  name: 'wasm',
  readsPackedRows: true,

  createArena(byteLength: number): SharedArena {
    return new SharedArena(0, createKernelMemory(byteLength), RESERVED_BYTES);
  },

  createSolver(buffer: SharedArrayBuffer, memory: WebAssembly.Memory | null): Promise<SolveRows> {
    return createWasmSolveRows(buffer, memory, 'solveRows');
  },

  createSquaredErrors(
    buffer: SharedArrayBuffer,
    memory: WebAssembly.Memory | null,
  ): Promise<SquaredErrors> {
    return createWasmSolveRows(buffer, memory, 'squaredErrors');
  },
};

/**
 * Benchmark only: a SolveRows that accumulates each row's Gram matrix and right-hand side exactly
 * as the kernel does but skips the Cholesky solve and writes nothing, to time the Gram on its own.
 */
export function createWasmGramAccumulator(
  buffer: SharedArrayBuffer,
  memory: WebAssembly.Memory | null,
): Promise<SolveRows> {
  return createWasmSolveRows(buffer, memory, 'accumulateRows');
}

/**
 * Benchmark only: a SolveRows that gathers each row's vectors exactly as the kernel does but skips
 * the Gram accumulation and the solve and writes nothing, to time the gather on its own.
 */
export function createWasmGatherOnly(
  buffer: SharedArrayBuffer,
  memory: WebAssembly.Memory | null,
): Promise<SolveRows> {
  return createWasmSolveRows(buffer, memory, 'gatherRows');
}

async function createWasmSolveRows(
  buffer: SharedArrayBuffer,
  memory: WebAssembly.Memory | null,
  entryName: keyof typeof MODES,
): Promise<SquaredErrors> {
  if (!memory)
    throw new Error(
      'the wasm kernel needs the arena to live in a shared WebAssembly.Memory (wasmKernel.createArena)',
    );
  const memoryBuffer = memory.buffer;
  const control = new Int32Array(memoryBuffer, CONTROL_OFFSET, PROBE_WORD + PROBE_WORDS);
  // `buffer` may be a different SharedArrayBuffer object for the same memory (one posted to a
  // worker separately): prove they alias by writing a unique ticket through one and reading it
  // through the other.
  if (buffer !== memoryBuffer) {
    const ticket = Atomics.add(control, TICKET_WORD, 1) + 1;
    const probe = PROBE_WORD + (ticket % PROBE_WORDS);
    Atomics.store(control, probe, ticket);
    const seen =
      buffer.byteLength === memoryBuffer.byteLength
        ? Atomics.load(new Int32Array(buffer, CONTROL_OFFSET), probe)
        : NaN;
    if (seen !== ticket)
      throw new Error('the arena buffer is not the buffer of the given WebAssembly.Memory');
  }
  const module = await loadKernelModule();
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  if (exports.scratchBytes(MAX_WASM_DIM) > SCRATCH_SLOT_BYTES)
    throw new Error('wasm kernel: scratch slots too small for MAX_WASM_DIM');
  if (exports.paramBytes() !== PARAM_BYTES)
    throw new Error('wasm kernel: dist/core/kernel.wasm is from another build (run npm run build)');
  const mode = MODES[entryName];
  // Views of the whole memory, to write each call's argument block.
  const int32 = new Int32Array(memoryBuffer);
  const float64 = new Float64Array(memoryBuffer);
  // Start the slot search at a different slot per solver so threads rarely contend.
  let preferredSlot = (Atomics.add(control, TICKET_WORD, 1) >>> 0) % SCRATCH_SLOTS;

  const pointer = (name: string, array: KernelArray): number => {
    if (array.buffer !== buffer && array.buffer !== memoryBuffer) {
      throw new Error(
        `wasm kernel: ${name} does not live in the kernel's WebAssembly.Memory (allocate it in wasmKernel's arena)`,
      );
    }
    return array.byteOffset;
  };
  // The packed rows are copied with 16-byte vector loads and stores.
  const packedPointer = (name: string, array: Float32Array): number => {
    const offset = pointer(name, array);
    if (offset % 16 !== 0) throw new Error(`wasm kernel: ${name} is not 16-byte aligned`);
    return offset;
  };

  return (args: HalfEpochArgs, rowStart: number, rowEnd: number): number => {
    const { dim } = args;
    if (!Number.isInteger(dim) || dim < 0 || dim > MAX_WASM_DIM) {
      throw new AlsError(
        `the wasm kernel supports dim 0…${MAX_WASM_DIM}, got ${dim}: use --kernel ts`,
      );
    }
    if (
      !(
        Number.isInteger(rowStart) &&
        Number.isInteger(rowEnd) &&
        0 <= rowStart &&
        rowStart <= rowEnd &&
        rowEnd < args.offsets.length
      )
    ) {
      throw new RangeError(
        `wasm kernel: rows [${rowStart}, ${rowEnd}) outside the index of ${args.offsets.length - 1} rows`,
      );
    }
    if (rowStart === rowEnd) return 0;
    // Bounds the kernel relies on (it reads raw memory, so a short array would read a neighbour).
    // The entries of `indices` are trusted to be < otherBias.length: the data layer builds them.
    const lastRating = args.offsets[rowEnd]!;
    if (
      lastRating > args.indices.length ||
      lastRating > args.values.length ||
      args.otherFactors.length < args.otherBias.length * dim ||
      args.rowFactors.length < rowEnd * dim ||
      args.rowBias.length < rowEnd ||
      (args.priorMeans !== null && args.priorMeans.length < rowEnd * dim) ||
      (dim > 0 &&
        args.otherPacked != null &&
        args.otherPacked.length < args.otherBias.length * packedRowWidth(dim)) ||
      (dim > 0 && args.rowPacked != null && args.rowPacked.length < rowEnd * packedRowWidth(dim))
    ) {
      throw new RangeError('wasm kernel: an array is shorter than the rows being solved need');
    }
    const offsets = pointer('offsets', args.offsets);
    const indices = pointer('indices', args.indices);
    const values = pointer('values', args.values);
    const otherFactors = pointer('otherFactors', args.otherFactors);
    const otherBias = pointer('otherBias', args.otherBias);
    const rowFactors = pointer('rowFactors', args.rowFactors);
    const rowBias = pointer('rowBias', args.rowBias);
    const priorMeans = args.priorMeans === null ? 0 : pointer('priorMeans', args.priorMeans);
    const otherPacked =
      dim > 0 && args.otherPacked != null ? packedPointer('otherPacked', args.otherPacked) : 0;
    const rowPacked =
      dim > 0 && args.rowPacked != null ? packedPointer('rowPacked', args.rowPacked) : 0;

    const sampling = args.sampling ?? null;
    if (sampling !== null) {
      const n = dim + 1;
      if (
        sampling.priorPrecision.length < n ||
        sampling.priorMean.length < n ||
        sampling.normals.length < rowEnd * n
      ) {
        throw new RangeError(
          'wasm kernel: a sampling array is shorter than the rows being drawn need',
        );
      }
      if (entryName !== 'solveRows')
        throw new Error('wasm kernel: the Gram-only benchmark entry cannot sample');
    }
    const samplingPointers =
      sampling === null
        ? null
        : ([
            pointer('priorPrecision', sampling.priorPrecision),
            pointer('priorMean', sampling.priorMean),
            pointer('normals', sampling.normals),
          ] as const);

    const slot = claimSlot(control, preferredSlot);
    preferredSlot = slot;
    try {
      const block = SCRATCH_OFFSET + slot * SCRATCH_SLOT_BYTES;
      const i = block >> 2;
      const f = block >> 3;
      int32[i + PARAM.mode / 4] = mode;
      int32[i + PARAM.dim / 4] = dim;
      int32[i + PARAM.rowStart / 4] = rowStart;
      int32[i + PARAM.rowEnd / 4] = rowEnd;
      int32[i + PARAM.weighted / 4] = args.weightedRegularization ? 1 : 0;
      int32[i + PARAM.weightedBias / 4] = biasRidgeWeighted(args) ? 1 : 0;
      int32[i + PARAM.offsets / 4] = offsets;
      int32[i + PARAM.indices / 4] = indices;
      int32[i + PARAM.values / 4] = values;
      int32[i + PARAM.otherFactors / 4] = otherFactors;
      int32[i + PARAM.otherBias / 4] = otherBias;
      int32[i + PARAM.rowFactors / 4] = rowFactors;
      int32[i + PARAM.rowBias / 4] = rowBias;
      int32[i + PARAM.priorMeans / 4] = priorMeans;
      int32[i + PARAM.otherPacked / 4] = otherPacked;
      int32[i + PARAM.rowPacked / 4] = rowPacked;
      int32[i + PARAM.priorPrecision / 4] = samplingPointers?.[0] ?? 0;
      int32[i + PARAM.priorMean / 4] = samplingPointers?.[1] ?? 0;
      int32[i + PARAM.normals / 4] = samplingPointers?.[2] ?? 0;
      float64[f + PARAM.globalMean / 8] = args.globalMean;
      float64[f + PARAM.lambda / 8] = args.lambda;
      float64[f + PARAM.tau / 8] = args.tau;
      float64[f + PARAM.gamma / 8] = args.gamma;
      float64[f + PARAM.weightExponent / 8] =
        samplingPointers === null ? (args.weightExponent ?? 1) : 1;
      exports.run(block);
      return mode === MODES.squaredErrors ? float64[f + PARAM.result / 8]! : 0;
    } finally {
      Atomics.store(control, slot, 0);
    }
  };
}

/** Takes a free scratch slot (lock word 0 → 1), trying `preferred` first. */
function claimSlot(control: Int32Array, preferred: number): number {
  for (let i = 0; i < SCRATCH_SLOTS; i++) {
    const slot = (preferred + i) % SCRATCH_SLOTS;
    if (Atomics.compareExchange(control, slot, 0, 1) === 0) return slot;
  }
  throw new Error(`wasm kernel: more than ${SCRATCH_SLOTS} concurrent calls over one memory`);
}
