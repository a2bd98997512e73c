/**
 * NumPy's .npy format (version 1.0) and .npz archives, for numpy users (implicit's habit of
 * saving a model as one .npz of named arrays).
 *
 * .npy layout: the magic bytes \x93NUMPY, version 1 0, a little-endian u16 header length H, then
 * H bytes of an ASCII Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (n, k), }
 * padded with spaces and ended by '\n' so that the data starts on a 64-byte boundary, then the
 * array's raw little-endian bytes in C (row-major) order. An .npz is a zip of such files named
 * <key>.npy; entries are stored uncompressed (numpy.load reads both), which keeps writing fast.
 */
import { zipSync } from 'fflate';

export type NpyArray = Float64Array | Float32Array | Int32Array;

/** One named array of an archive: its data and shape (product of the shape = data length). */
export interface NpyEntry {
  name: string;
  data: NpyArray;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function descrOf(a: NpyArray): string {
  if (a instanceof Float64Array) return '<f8';
  if (a instanceof Float32Array) return '<f4';
  return '<i4';
}

/** The bytes of one .npy file. */
export function encodeNpy(entry: NpyEntry): Uint8Array {
  const { data, shape } = entry;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new Error(
      `npy ${entry.name}: shape (${shape.join(', ')}) does not hold ${data.length} values`,
    );
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = MAGIC.length + 2 + 2;
  const total = Math.ceil((preamble + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - preamble - 1, ' ')}\n`;
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** The bytes of an .npz archive holding the entries as <name>.npy (stored, not deflated). */
export function encodeNpz(entries: NpyEntry[]): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const entry of entries) files[`${entry.name}.npy`] = [encodeNpy(entry), { level: 0 }];
  return zipSync(files);
}
