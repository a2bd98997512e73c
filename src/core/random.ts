/**
 * A small, fast, seedable PRNG (xoshiro128**, seeded through splitmix32) so that splits, synthetic
 * data and initial factors are reproducible from `--seed` on every platform. Math.random is never used.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareGaussian = NaN;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads a small seed over the 128-bit state.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  nextGaussian(): number {
    if (!Number.isNaN(this.spareGaussian)) {
      const g = this.spareGaussian;
      this.spareGaussian = NaN;
      return g;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareGaussian = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle(array: Int32Array | number[]): void {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = array[i]!;
      array[i] = array[j]!;
      array[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** murmur3's 32-bit finaliser: a bijection on 32-bit words that spreads every input bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The 32-bit key of one counter-based random stream, hashed from up to four integers
 * (e.g. seed, sample, side, row). Different tuples give unrelated streams, so each row of each
 * Gibbs sample draws its own numbers no matter which thread runs it or in which order.
 */
export function streamKey(a: number, b: number, c: number, d: number): number {
  let h = fmix32((a >>> 0) ^ 0x9e3779b9);
  h = fmix32((h + Math.imul(b >>> 0, 0x85ebca6b)) >>> 0);
  h = fmix32((h ^ Math.imul(c >>> 0, 0xc2b2ae35)) >>> 0);
  return fmix32((h + Math.imul(d >>> 0, 0x27d4eb2f) + 0x165667b1) >>> 0);
}

/**
 * Writes `count` standard normals of stream `key` into out[offset ..): counter i of the stream is
 * the word fmix32(key + i·φ) (a Weyl sequence through a finaliser, as splitmix does), each word a
 * 32-bit uniform, and two uniforms a Box–Muller pair. 32 bits per uniform bound |z| by 6.7, far
 * past anything a few thousand draws per row would see, and cost half the hashing of 53 bits.
 * Allocation-free, no state.
 */
export function streamGaussians(
  key: number,
  out: Float64Array,
  offset: number,
  count: number,
): void {
  const k = key >>> 0;
  let c = 0;
  for (let i = 0; i < count; i += 2) {
    const u1 = (fmix32((k + Math.imul(++c, 0x9e3779b9)) >>> 0) + 0.5) / 4294967296; // (0, 1)
    const u2 = fmix32((k + Math.imul(++c, 0x9e3779b9)) >>> 0) / 4294967296; // [0, 1)
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    out[offset + i] = radius * Math.cos(angle);
    if (i + 1 < count) out[offset + i + 1] = radius * Math.sin(angle);
  }
}
