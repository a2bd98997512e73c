import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { AlsError } from '../../src/errors.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const alsBin = path.join(repoRoot, 'bin', 'als.js');

/** Runs `node bin/als.js …` (the built CLI). */
export function als(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [alsBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ALS_DEBUG: '', ...options.env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The error is an AlsError with a one-line message (no stack, no "internal error") matching `pattern`. */
export function expectOneLine(error: unknown, pattern?: RegExp): void {
  expect(error, String((error as Error)?.stack ?? error)).toBeInstanceOf(AlsError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message).not.toMatch(/internal error/);
  if (pattern) expect(message).toMatch(pattern);
}

export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

export async function caughtAsync(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A tiny genre-model checkpoint (the one test/checkpoint.test.ts round-trips). */
export { sampleCheckpoint } from '../helpers/sample-checkpoint.js';

/** A checkpoint file taken apart: its JSON header (as an object) and payload bytes. */
export interface CheckpointParts {
  version: number;
  header: Record<string, unknown> & {
    arrays: { name: string; type: string; length: number; byteOffset: number }[];
    payloadBytes: number;
  };
  payload: Buffer;
}

export function splitCheckpoint(file: string): CheckpointParts {
  const bytes = readFileSync(file);
  const headerBytes = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + headerBytes));
  return {
    version: bytes.readUInt32LE(8),
    header,
    payload: bytes.subarray(16 + headerBytes, bytes.length - 32),
  };
}

/**
 * Writes a crafted checkpoint: magic, version, header (padded to 8), payload, and a *valid*
 * SHA-256 trailer over all of it, so only the semantic checks can refuse it. `headerLengthLie`
 * overrides the stored header length.
 */
export function writeCrafted(
  file: string,
  parts: CheckpointParts,
  options: { headerLengthLie?: number; truncateTo?: number } = {},
): void {
  let json = Buffer.from(JSON.stringify(parts.header), 'utf8');
  const padded = Math.ceil((16 + json.length) / 8) * 8 - 16;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const preamble = Buffer.alloc(16);
  Buffer.from([0x89, 0x41, 0x4c, 0x53, 0x43, 0x4b, 0x50, 0x0a]).copy(preamble);
  preamble.writeUInt32LE(parts.version >>> 0, 8);
  preamble.writeUInt32LE((options.headerLengthLie ?? json.length) >>> 0, 12);
  const body = Buffer.concat([preamble, json, parts.payload]);
  let all = Buffer.concat([body, createHash('sha256').update(body).digest()]);
  if (options.truncateTo !== undefined) all = all.subarray(0, options.truncateTo);
  writeFileSync(file, all);
}
