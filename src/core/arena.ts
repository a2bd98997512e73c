/**
 * Typed arrays that every worker thread (and a WebAssembly kernel) sees: views into one shared
 * buffer, handed out by a bump allocator. A worker rebuilds the same views from the buffer and the
 * descriptors, so nothing is copied between threads.
 */

export type ArrayType = 'f64' | 'f32' | 'i32';

/** Where an array lives in the arena: enough for another thread to rebuild the view. */
export interface ArrayDescriptor {
  type: ArrayType;
  byteOffset: number;
  length: number;
}

export class SharedArena {
  /** The shared bytes (a WebAssembly.Memory's buffer when `memory` is set). */
  readonly buffer: SharedArrayBuffer;
  /** Set when the buffer belongs to a shared WebAssembly.Memory (post the memory to workers). */
  readonly memory: WebAssembly.Memory | null;
  private next: number;

  /**
   * @param byteLength size for a plain SharedArrayBuffer arena (ignored when `memory` is given)
   * @param memory a shared WebAssembly.Memory to allocate in instead
   * @param baseOffset first byte the allocator may hand out (a wasm kernel keeps the bytes below for itself)
   */
  constructor(byteLength: number, memory: WebAssembly.Memory | null = null, baseOffset = 0) {
    this.memory = memory;
    this.buffer = memory ? (memory.buffer as SharedArrayBuffer) : new SharedArrayBuffer(byteLength);
    this.next = align(baseOffset);
  }

  /** Bytes handed out so far (including the base offset). */
  get usedBytes(): number {
    return this.next;
  }

  alloc(type: ArrayType, length: number): ArrayDescriptor {
    const bytes = length * bytesPer(type);
    const byteOffset = this.next;
    if (byteOffset + bytes > this.buffer.byteLength) {
      throw new RangeError(
        `arena full: need ${byteOffset + bytes} bytes, have ${this.buffer.byteLength}`,
      );
    }
    this.next = align(byteOffset + bytes);
    return { type, byteOffset, length };
  }

  allocFloat64(length: number): Float64Array {
    return viewOf(this.buffer, this.alloc('f64', length)) as Float64Array;
  }
  allocFloat32(length: number): Float32Array {
    return viewOf(this.buffer, this.alloc('f32', length)) as Float32Array;
  }
  allocInt32(length: number): Int32Array {
    return viewOf(this.buffer, this.alloc('i32', length)) as Int32Array;
  }

  /** The descriptor of a view allocated in this arena (for posting to workers). */
  describe(view: Float64Array | Float32Array | Int32Array): ArrayDescriptor {
    if (view.buffer !== this.buffer) throw new Error('array does not live in this arena');
    const type: ArrayType =
      view instanceof Float64Array ? 'f64' : view instanceof Float32Array ? 'f32' : 'i32';
    return { type, byteOffset: view.byteOffset, length: view.length };
  }
}

/** Rebuilds a view from its descriptor (in any thread that holds the buffer). */
export function viewOf(
  buffer: ArrayBufferLike,
  d: ArrayDescriptor,
): Float64Array | Float32Array | Int32Array {
  switch (d.type) {
    case 'f64':
      return new Float64Array(buffer, d.byteOffset, d.length);
    case 'f32':
      return new Float32Array(buffer, d.byteOffset, d.length);
    case 'i32':
      return new Int32Array(buffer, d.byteOffset, d.length);
  }
}

export function bytesPer(type: ArrayType): number {
  return type === 'f64' ? 8 : 4;
}

/** 16-byte alignment: what f64x2 SIMD loads want, and a multiple of every element size. */
function align(offset: number): number {
  return (offset + 15) & ~15;
}
