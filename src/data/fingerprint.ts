import { createHash } from 'node:crypto';
import type { Dataset } from './types.js';

/**
 * A fingerprint of the loaded content (ids, CSR, timestamps, catalog), not of file names or dates:
 * two copies of the same data have the same fingerprint, so checkpoints can be matched to data.
 *
 * Hashing ~650 MB of arrays with SHA-1 takes seconds, so the arrays go through a 4-lane
 * xxHash32-style mix first (128 bits of state per array, ~0.2 s for 32M ratings; collisions only
 * matter between honest data sets, not against an adversary), and SHA-1 condenses those states,
 * the lengths and the strings into the hex digest.
 *
 * `mixed` may hold the mixes of some arrays computed elsewhere (on worker threads, in parallel):
 * the digest is the same either way.
 */
export function fingerprint(
  dataset: Dataset,
  mixed: ReadonlyMap<Int32Array | Float32Array, Int32Array> = new Map(),
): string {
  const hash = createHash('sha1');
  const add = (array: Int32Array | Float32Array): void => {
    const mix = mixed.get(array) ?? mixWords(wordsOf(array));
    hash.update(new Uint8Array(mix.buffer, mix.byteOffset, 16));
    hash.update(`|${array.length}|`);
  };
  for (const array of fingerprintArrays(dataset)) add(array);
  hash.update(dataset.catalog.genreNames.join('\n'));
  hash.update('\u0000');
  hash.update(dataset.catalog.titles.join('\n'));
  return hash.digest('hex');
}

/** The arrays the fingerprint mixes, in order. */
export function fingerprintArrays(dataset: Dataset): (Int32Array | Float32Array)[] {
  const arrays: (Int32Array | Float32Array)[] = [
    dataset.userIds,
    dataset.itemIds,
    dataset.matrix.ratingsByUser.offsets,
    dataset.matrix.ratingsByUser.indices,
    dataset.matrix.ratingsByUser.values,
  ];
  if (dataset.timestampsByUser) arrays.push(dataset.timestampsByUser);
  arrays.push(dataset.catalog.years, dataset.catalog.genreOffsets, dataset.catalog.genreIds);
  return arrays;
}

/** The 32-bit words of an array (a float's bit pattern). */
export const wordsOf = (array: Int32Array | Float32Array): Int32Array =>
  new Int32Array(array.buffer, array.byteOffset, array.length);

const PRIME1 = 0x9e3779b1 | 0;
const PRIME2 = 0x85ebca77 | 0;

/** xxHash32's accumulation: lane j takes words j, j+4, …: lane = rotl(lane + w·P2, 13)·P1. */
export function mixWords(words: Int32Array): Int32Array {
  let a = 0x24234428;
  let b = 0x6f6e6e61 | 0;
  let c = 0;
  let d = 0x61c8864f;
  const whole = words.length & ~3;
  for (let k = 0; k < whole; k += 4) {
    a = a + Math.imul(words[k]!, PRIME2);
    a = Math.imul((a << 13) | (a >>> 19), PRIME1);
    b = b + Math.imul(words[k + 1]!, PRIME2);
    b = Math.imul((b << 13) | (b >>> 19), PRIME1);
    c = c + Math.imul(words[k + 2]!, PRIME2);
    c = Math.imul((c << 13) | (c >>> 19), PRIME1);
    d = d + Math.imul(words[k + 3]!, PRIME2);
    d = Math.imul((d << 13) | (d >>> 19), PRIME1);
  }
  for (let k = whole; k < words.length; k++) {
    a = a + Math.imul(words[k]!, PRIME2);
    a = Math.imul((a << 13) | (a >>> 19), PRIME1);
  }
  return Int32Array.of(a, b, c, d);
}
