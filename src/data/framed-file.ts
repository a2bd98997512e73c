/**
 * The file framing shared by ALS checkpoints (./checkpoint.ts) and Bayesian checkpoints
 * (./bayes-checkpoint.ts). Each format has its own magic, version, zod header schema, semantic
 * checks and error wording; this module owns only the bytes around them (little-endian):
 *
 *   bytes 0..7    magic (8 bytes, one per format)
 *   bytes 8..11   u32    format version
 *   bytes 12..15  u32    header length H in bytes
 *   bytes 16..    H bytes of UTF-8 JSON, padded with spaces so that the payload starts on an 8-byte
 *                 boundary
 *   payload       the typed arrays, raw, back to back, each at an 8-byte aligned offset (relative
 *                 to the payload start) listed in the header's array table
 *   trailer       32 bytes: SHA-256 of every byte before it (magic, header and payload)
 *
 * Writing goes through writeFileAtomic (temp file, fsync, rename). Reading is in two steps so that
 * a crafted file costs no more than its real size: readFramedHeader reads the preamble and the
 * header alone and checks them against the file size (header length capped, the file exactly
 * preamble + header + payload + trailer); the format then checks its array table against its
 * counts (checkInsidePayload, checkBackToBack), and only then readFramedPayload reads the payload.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import type { AlsError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export const PREAMBLE_BYTES = 16;
export const TRAILER_BYTES = 32;
/** The largest JSON header a framed file may have (real ones are a few KB: metrics, genre names). */
export const MAX_HEADER_BYTES = 16 << 20;

export type StoredArray = Float64Array | Float32Array | Int32Array | Uint8Array;
export type StoredArrayType = 'f64' | 'f32' | 'i32' | 'u8';
export const ELEMENT_BYTES: Record<StoredArrayType, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };

/** One row of a header's array table. */
export interface FramedArrayEntry {
  name: string;
  type: StoredArrayType;
  length: number;
  byteOffset: number;
}

export const align8 = (n: number): number => (n + 7) & ~7;

function typeOf(a: StoredArray): StoredArrayType {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

/** The array table and payload size for arrays written back to back, each 8-byte aligned. */
export function layOutArrays(arrays: ReadonlyArray<readonly [string, StoredArray]>): {
  table: FramedArrayEntry[];
  payloadBytes: number;
} {
  let payloadBytes = 0;
  const table = arrays.map(([name, a]) => {
    const entry = { name, type: typeOf(a), length: a.length, byteOffset: payloadBytes };
    payloadBytes = align8(payloadBytes + a.byteLength);
    return entry;
  });
  return { table, payloadBytes };
}

/**
 * Writes a framed file atomically, streamed array by array (no copy of the arrays); the SHA-256
 * trailer is computed while writing. `header` is serialised with JSON.stringify as given: it must
 * already hold the table and payload size of layOutArrays(arrays) and be valid for its format.
 */
export function writeFramedFile(
  file: string,
  magic: Uint8Array,
  version: number,
  header: unknown,
  arrays: ReadonlyArray<readonly [string, StoredArray]>,
): void {
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = align8(PREAMBLE_BYTES + json.length) - PREAMBLE_BYTES;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  preamble.set(magic, 0);
  preamble.writeUInt32LE(version, 8);
  preamble.writeUInt32LE(json.length, 12);

  writeFileAtomic(file, (sink) => {
    const hash = createHash('sha256');
    const write = (chunk: Uint8Array): void => {
      hash.update(chunk);
      sink.write(chunk);
    };
    write(preamble);
    write(json);
    let written = 0;
    for (const [, a] of arrays) {
      // A view, not a copy (works for SharedArrayBuffer-backed arrays too).
      const bytes = Buffer.from(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength);
      write(bytes);
      written += bytes.length;
      const pad = align8(written) - written;
      if (pad > 0) {
        write(Buffer.alloc(pad));
        written += pad;
      }
    }
    sink.write(hash.digest());
  });
}

/** Reads exactly `buffer.length` bytes at `position` (short only at end of file). */
export function readAt(fd: number, buffer: Uint8Array, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, Math.min(buffer.length - done, 1 << 30), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** What a format reads: its magic, version, header parser and its own error wording. */
export interface FramedFormat<H extends { payloadBytes: number }> {
  magic: Uint8Array;
  version: number;
  /** Parses and validates the header bytes (the format's zod schema), throwing its own error. */
  parseHeader: (headerBuffer: Buffer) => H;
  notThisFormat: () => AlsError;
  /** "truncated …" with the detail in brackets, or without one. */
  truncated: (detail?: string) => AlsError;
  corrupted: (what: string) => AlsError;
  unsupportedVersion: (version: number) => AlsError;
  /** The `corrupted` wording for bytes past the trailer. */
  trailingBytes: (extraBytes: number) => string;
  /** Refuse a file larger than this before reading its header. */
  maxFileBytes?: number;
  /** Refuse a header whose length does not put the payload on an 8-byte boundary. */
  requirePaddedHeader?: boolean;
  /** Call a file with no room for preamble and trailer truncated before checking the version. */
  trailerRoomFirst?: boolean;
}

/** The preamble and header of a framed file, checked against its size; the payload not yet read. */
export interface FramedHeader<H> {
  preamble: Buffer;
  headerBuffer: Buffer;
  header: H;
  payloadStart: number;
}

/**
 * Reads and checks the preamble (magic, version, header length ≤ MAX_HEADER_BYTES and within the
 * file), then the header alone, then that the file is exactly preamble + header + payload +
 * trailer. Reads nothing of the payload.
 */
export function readFramedHeader<H extends { payloadBytes: number }>(
  fd: number,
  fileBytes: number,
  format: FramedFormat<H>,
): FramedHeader<H> {
  const { magic } = format;
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  const got = readAt(fd, preamble, 0);
  if (got < magic.length || !preamble.subarray(0, magic.length).equals(magic))
    throw format.notThisFormat();
  if (
    got < PREAMBLE_BYTES ||
    (format.trailerRoomFirst === true && fileBytes < PREAMBLE_BYTES + TRAILER_BYTES)
  )
    throw format.truncated(`${fileBytes} bytes`);
  const version = preamble.readUInt32LE(8);
  if (version !== format.version) throw format.unsupportedVersion(version);
  if (format.maxFileBytes !== undefined && fileBytes > format.maxFileBytes)
    throw format.corrupted(`${fileBytes} bytes, more than any checkpoint als writes`);
  const headerBytes = preamble.readUInt32LE(12);
  if (headerBytes > MAX_HEADER_BYTES)
    throw format.corrupted(`header length ${headerBytes} bytes, limit ${MAX_HEADER_BYTES}`);
  const payloadStart = PREAMBLE_BYTES + headerBytes;
  if (fileBytes < payloadStart + TRAILER_BYTES)
    throw format.truncated(
      `${fileBytes} bytes, header alone needs ${payloadStart + TRAILER_BYTES}`,
    );
  if (format.requirePaddedHeader === true && payloadStart % 8 !== 0)
    throw format.corrupted(`header length ${headerBytes} is not padded to 8 bytes`);
  const headerBuffer = Buffer.alloc(headerBytes);
  readAt(fd, headerBuffer, PREAMBLE_BYTES);
  const header = format.parseHeader(headerBuffer);
  const expectedBytes = payloadStart + header.payloadBytes + TRAILER_BYTES;
  if (fileBytes < expectedBytes) throw format.truncated(`${fileBytes} of ${expectedBytes} bytes`);
  if (fileBytes > expectedBytes)
    throw format.corrupted(format.trailingBytes(fileBytes - expectedBytes));
  return { preamble, headerBuffer, header, payloadStart };
}

/** Whether an array table entry lies 8-byte aligned inside the payload. */
export function isInsidePayload(entry: FramedArrayEntry, payloadBytes: number): boolean {
  return (
    entry.byteOffset % 8 === 0 &&
    entry.byteOffset + entry.length * ELEMENT_BYTES[entry.type] <= payloadBytes
  );
}

/**
 * The writer lays the arrays out back to back (each 8-byte aligned): a payload larger than they
 * need, or arrays out of order or overlapping, is not one of ours.
 */
export function checkBackToBack(
  arrays: readonly FramedArrayEntry[],
  payloadBytes: number,
  corrupted: (what: string) => AlsError,
): void {
  let laidOut = 0;
  for (const entry of arrays) {
    if (entry.byteOffset !== laidOut)
      throw corrupted(
        `array ${entry.name} at byte ${entry.byteOffset} of the payload, expected ${laidOut}`,
      );
    laidOut = align8(laidOut + entry.length * ELEMENT_BYTES[entry.type]);
  }
  if (laidOut !== payloadBytes)
    throw corrupted(`payload of ${payloadBytes} bytes, its arrays fill ${laidOut}`);
}

/**
 * Reads the payload (its size already checked against the real file) into a fresh buffer, so
 * that every array in it is 8-byte aligned, and checks the SHA-256 trailer unless told not to.
 */
export function readFramedPayload<H extends { payloadBytes: number }>(
  fd: number,
  framed: FramedHeader<H>,
  errors: {
    shrank: () => AlsError;
    corrupted: (what: string) => AlsError;
  },
  verifyChecksum = true,
): Uint8Array {
  const { payloadBytes } = framed.header;
  const payload = new Uint8Array(payloadBytes);
  if (readAt(fd, payload, framed.payloadStart) < payload.length) throw errors.shrank();
  if (verifyChecksum) {
    const trailer = Buffer.alloc(TRAILER_BYTES);
    readAt(fd, trailer, framed.payloadStart + payloadBytes);
    const digest = createHash('sha256')
      .update(framed.preamble)
      .update(framed.headerBuffer)
      .update(payload)
      .digest();
    if (!digest.equals(trailer)) throw errors.corrupted('checksum mismatch');
  }
  return payload;
}

/** A typed view of one array of a payload read by readFramedPayload (aligned: offsets are). */
export function arrayView(payload: Uint8Array, entry: FramedArrayEntry): StoredArray {
  const { buffer } = payload;
  const start = payload.byteOffset + entry.byteOffset;
  if (entry.type === 'f64') return new Float64Array(buffer, start, entry.length);
  if (entry.type === 'f32') return new Float32Array(buffer, start, entry.length);
  if (entry.type === 'i32') return new Int32Array(buffer, start, entry.length);
  return new Uint8Array(buffer, start, entry.length);
}
