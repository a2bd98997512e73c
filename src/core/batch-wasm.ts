/**
 * Loads dist/core/topn.wasm (src/core/wasm/topn.ts) and runs it on a range of users: the fast path
 * of batchTopNRange (same lists, see the AssemblyScript file). Each call instantiates the module
 * with its own memory, copies the range's inputs in, and copies the lists out.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BatchArgs } from './batch.js';

interface TopNExports {
  memory: WebAssembly.Memory;
  scratchBytes(dim: number, topN: number): number;
  topNRange(
    dim: number,
    numEligible: number,
    eligibleFactors: number,
    eligibleFactors32: number,
    eligibleBias: number,
    eligibleItems: number,
    maxAbsBias: number,
    maxNorm: number,
    chunkSize: number,
    chunkMaxBias: number,
    chunkMaxNorm: number,
    numUsers: number,
    userFactors: number,
    userBase: number,
    excludeOffsets: number,
    excludeIndices: number,
    topN: number,
    outItems: number,
    outScores: number,
    scratch: number,
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null when it is not built or this runtime lacks SIMD (callers fall back to TypeScript). */
export function topNModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  for (const url of [
    new URL('./topn.wasm', import.meta.url),
    new URL('../../dist/core/topn.wasm', import.meta.url),
  ]) {
    try {
      compiled = new WebAssembly.Module(readFileSync(fileURLToPath(url)));
      break;
    } catch {
      /* try the next place */
    }
  }
  return compiled;
}

const PAGE_BYTES = 65536;
/** Movies per pruning chunk (see topn.ts): small enough to skip precisely, large enough to be cheap. */
const CHUNK = 64;
const align16 = (n: number): number => (n + 15) & ~15;

/** batchTopNRange on the WebAssembly kernel. Returns false (doing nothing) when the module is unavailable. */
export function batchTopNRangeWasm(args: BatchArgs, userStart: number, userEnd: number): boolean {
  const module = topNModule();
  if (module === null) return false;
  const { dim, numEligible, topN } = args;
  const numUsers = userEnd - userStart;
  if (numUsers <= 0 || topN === 0) return true;
  const hasExclusions = args.excludeOffsets.length > 0;
  const exclStart = hasExclusions ? args.excludeOffsets[userStart]! : 0;
  const exclEnd = hasExclusions ? args.excludeOffsets[userEnd]! : 0;

  // Layout in the module's memory (byte 0..15 left unused so that 0 can mean "none").
  let next = 16;
  const place = (bytes: number): number => {
    const at = next;
    next = align16(next + bytes);
    return at;
  };
  const pFactors = place(numEligible * dim * 8);
  const pFactors32 = place(numEligible * dim * 4);
  const pBias = place(numEligible * 8);
  const pItems = place(numEligible * 4);
  const pUsers = place(numUsers * dim * 8);
  const pBase = place(numUsers * 8);
  const pExclOffsets = hasExclusions ? place((numUsers + 1) * 4) : 0;
  const pExclIndices = hasExclusions ? place((exclEnd - exclStart) * 4) : 0;
  const pOutItems = place(numUsers * topN * 4);
  const pOutScores = place(numUsers * topN * 8);
  const instance = new WebAssembly.Instance(module, {});
  const wasm = instance.exports as unknown as TopNExports;
  const numChunks = Math.ceil(numEligible / CHUNK);
  const pChunkBias = place(numChunks * 8);
  const pChunkNorm = place(numChunks * 8);
  const pScratch = place(wasm.scratchBytes(dim, topN));
  const needPages = Math.ceil(next / PAGE_BYTES) - wasm.memory.buffer.byteLength / PAGE_BYTES;
  if (needPages > 0) wasm.memory.grow(needPages);
  const buffer = wasm.memory.buffer;

  // Movie order for pruning: by c_e + R‖v_e‖ descending, R the mean ‖u‖ of the range's users, so
  // that the best candidates come first; chunk maxima of c and ‖v‖ give the Cauchy–Schwarz bounds.
  const norms = new Float64Array(numEligible);
  let maxAbsBias = 0;
  let maxNorm = 0;
  for (let e = 0; e < numEligible; e++) {
    let sum = 0;
    for (let k = 0; k < dim; k++) sum += args.eligibleFactors[e * dim + k]! ** 2;
    norms[e] = Math.sqrt(sum);
    maxAbsBias = Math.max(maxAbsBias, Math.abs(args.eligibleBias[e]!));
    maxNorm = Math.max(maxNorm, norms[e]!);
  }
  let meanUserNorm = 0;
  for (let u = userStart; u < userEnd; u++) {
    let sum = 0;
    for (let k = 0; k < dim; k++) sum += args.userFactors[u * dim + k]! ** 2;
    meanUserNorm += Math.sqrt(sum) / numUsers;
  }
  const key = Float64Array.from(norms, (norm, e) => args.eligibleBias[e]! + meanUserNorm * norm);
  const order = Int32Array.from({ length: numEligible }, (_, e) => e).sort(
    (a, b) => key[b]! - key[a]! || a - b,
  );
  const factors = new Float64Array(buffer, pFactors, numEligible * dim);
  const factors32 = new Float32Array(buffer, pFactors32, numEligible * dim);
  const bias = new Float64Array(buffer, pBias, numEligible);
  const items = new Int32Array(buffer, pItems, numEligible);
  const chunkBias = new Float64Array(buffer, pChunkBias, numChunks).fill(-Infinity);
  const chunkNorm = new Float64Array(buffer, pChunkNorm, numChunks);
  for (let position = 0; position < numEligible; position++) {
    const e = order[position]!;
    const row = args.eligibleFactors.subarray(e * dim, (e + 1) * dim);
    factors.set(row, position * dim);
    factors32.set(row, position * dim); // rounded to f32: what the kernel screens with
    bias[position] = args.eligibleBias[e]!;
    items[position] = args.eligibleItems[e]!;
    const chunk = Math.floor(position / CHUNK);
    chunkBias[chunk] = Math.max(chunkBias[chunk]!, bias[position]!);
    chunkNorm[chunk] = Math.max(chunkNorm[chunk]!, norms[e]!);
  }
  new Float64Array(buffer, pUsers, numUsers * dim).set(
    args.userFactors.subarray(userStart * dim, userEnd * dim),
  );
  new Float64Array(buffer, pBase, numUsers).set(args.userBase.subarray(userStart, userEnd));
  if (hasExclusions) {
    const offsets = new Int32Array(buffer, pExclOffsets, numUsers + 1);
    for (let u = 0; u <= numUsers; u++)
      offsets[u] = args.excludeOffsets[userStart + u]! - exclStart;
    new Int32Array(buffer, pExclIndices, exclEnd - exclStart).set(
      args.excludeIndices.subarray(exclStart, exclEnd),
    );
  }
  wasm.topNRange(
    dim,
    numEligible,
    pFactors,
    pFactors32,
    pBias,
    pItems,
    maxAbsBias,
    maxNorm,
    CHUNK,
    pChunkBias,
    pChunkNorm,
    numUsers,
    pUsers,
    pBase,
    pExclOffsets,
    pExclIndices,
    topN,
    pOutItems,
    pOutScores,
    pScratch,
  );
  args.outItems.set(new Int32Array(buffer, pOutItems, numUsers * topN), userStart * topN);
  args.outScores.set(new Float64Array(buffer, pOutScores, numUsers * topN), userStart * topN);
  return true;
}
