// One partial sort for the whole toolkit: evaluation (top-k per user), recommendations and similar
// movies all keep their best k candidates in this heap.

/**
 * The k best (score, item) pairs of a stream, in a fixed-size binary min-heap over typed arrays:
 * O(n log k) for n offers and no allocation after construction. "Better" means a higher score, or
 * an equal score and a lower item index (so results do not depend on the order of offers).
 */
export class TopK {
  readonly capacity: number;
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.scores = new Float64Array(capacity);
    this.items = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  get length(): number {
    return this.size;
  }

  /** The score a candidate must reach to be offered once the heap is full (−∞ before). */
  threshold(): number {
    return this.size < this.capacity ? -Infinity : this.scores[0]!;
  }

  /** True when (sa, ia) ranks below (sb, ib). */
  private static worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  offer(score: number, item: number): void {
    const { scores, items } = this;
    if (this.size < this.capacity) {
      // Sift up from the new leaf: the root holds the worst of the kept pairs.
      let c = this.size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!TopK.worse(score, item, scores[parent]!, items[parent]!)) break;
        scores[c] = scores[parent]!;
        items[c] = items[parent]!;
        c = parent;
      }
      scores[c] = score;
      items[c] = item;
      return;
    }
    if (this.capacity === 0 || !TopK.worse(scores[0]!, items[0]!, score, item)) return;
    this.siftDown(score, item, this.size);
  }

  /** Places (score, item) at the root and sifts it down within the first `size` slots. */
  private siftDown(score: number, item: number, size: number): void {
    const { scores, items } = this;
    let p = 0;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= size) break;
      if (c + 1 < size && TopK.worse(scores[c + 1]!, items[c + 1]!, scores[c]!, items[c]!)) c++;
      if (!TopK.worse(scores[c]!, items[c]!, score, item)) break;
      scores[p] = scores[c]!;
      items[p] = items[c]!;
      p = c;
    }
    scores[p] = score;
    items[p] = item;
  }

  /** Writes the kept pairs best-first into the outputs, empties the heap, returns how many. */
  drainDescending(outScores: Float64Array, outItems: Int32Array): number {
    const n = this.size;
    for (let j = n - 1; j >= 0; j--) {
      // Pop the worst into the last free slot.
      outScores[j] = this.scores[0]!;
      outItems[j] = this.items[0]!;
      const last = j;
      if (last > 0) this.siftDown(this.scores[last]!, this.items[last]!, last);
    }
    this.size = 0;
    return n;
  }

  /** The kept pairs, best first, as new arrays (empties the heap). */
  sorted(): { items: Int32Array; scores: Float64Array } {
    const scores = new Float64Array(this.size);
    const items = new Int32Array(this.size);
    this.drainDescending(scores, items);
    return { items, scores };
  }
}
