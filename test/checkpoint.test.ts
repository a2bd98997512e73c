import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlsError } from '../src/errors.js';
import { readCheckpoint, writeCheckpoint } from '../src/data/checkpoint.js';
import { countScale } from '../src/core/kernel.js';
import { sampleCheckpoint as sample } from './helpers/sample-checkpoint.js';

const dir = mkdtempSync(path.join(tmpdir(), 'als-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLineError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AlsError);
  const message = (caught as Error).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
}

describe('checkpoint files', () => {
  it('round-trips every field and array exactly', () => {
    const file = path.join(dir, 'round.als');
    const original = sample();
    writeCheckpoint(file, original);
    const back = readCheckpoint(file, { expectFingerprint: 'abc123' });
    expect(back.state.hyper).toEqual(original.state.hyper);
    expect(back.state.globalMean).toBe(3.5);
    for (const key of [
      'userBias',
      'itemBias',
      'userFactors',
      'itemFactors',
      'genreFactors',
    ] as const) {
      expect(Array.from(back.state[key])).toEqual(Array.from(original.state[key]));
    }
    expect(Array.from(back.userIds)).toEqual([10, 20, 30]);
    expect(Array.from(back.itemIds)).toEqual([1, 2, 5, 99]);
    expect(back.catalog.titles).toEqual(original.catalog.titles);
    expect(Array.from(back.catalog.years)).toEqual([1995, 2001, 2004, 0]);
    expect(back.catalog.genreNames).toEqual(['Animation', 'Horror']);
    expect(Array.from(back.catalog.genreOffsets)).toEqual([0, 1, 1, 2, 3]);
    expect(Array.from(back.catalog.genreIds)).toEqual([0, 1, 1]);
    expect(Array.from(back.itemTrainCounts)).toEqual([2, 1, 2, 0]);
    expect(Array.from(back.trainItemsByUser.items)).toEqual([0, 2, 1, 2, 0]);
    expect(back.metrics).toEqual(original.metrics);
    expect(back.split).toEqual(original.split);
    expect(back.dataset).toEqual(original.dataset);
    expect(back.epochsDone).toBe(2);
    // No temp file is left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads a header without weightedBiasRegularization (older checkpoints) and round-trips the flag', () => {
    const file = path.join(dir, 'bias-flag.als');
    const old = sample(); // hyper has no weightedBiasRegularization: the header an older writer produced
    writeCheckpoint(file, old);
    const bytes = readFileSync(file);
    expect(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(12))).not.toContain(
      'weightedBiasRegularization',
    );
    const back = readCheckpoint(file);
    expect('weightedBiasRegularization' in back.state.hyper).toBe(false); // unset: γ follows τ's weighting
    for (const flag of [false, true]) {
      const c = sample();
      c.state.hyper.weightedBiasRegularization = flag;
      writeCheckpoint(file, c);
      expect(readCheckpoint(file).state.hyper.weightedBiasRegularization).toBe(flag);
    }
    // The header records it explicitly.
    const text = readFileSync(file).toString('latin1');
    expect(text).toContain('"weightedBiasRegularization":true');
  });

  it('reads a header without weightExponent (older checkpoints: ALS-WR, a = 1) and round-trips the exponent', () => {
    const file = path.join(dir, 'exponent.als');
    writeCheckpoint(file, sample()); // no weightExponent: what every writer before the field produced
    const back = readCheckpoint(file);
    expect('weightExponent' in back.state.hyper).toBe(false);
    expect(
      countScale(40, back.state.hyper.weightedRegularization, back.state.hyper.weightExponent),
    ).toBe(back.state.hyper.weightedRegularization ? 40 : 1);
    const c = sample();
    c.state.hyper.weightExponent = 0.5;
    writeCheckpoint(file, c);
    expect(readCheckpoint(file).state.hyper.weightExponent).toBe(0.5);
    expect(readFileSync(file).toString('latin1')).toContain('"weightExponent":0.5');
  });

  it('stores arrays at 8-byte aligned offsets', () => {
    const file = path.join(dir, 'aligned.als');
    writeCheckpoint(file, sample());
    const bytes = readFileSync(file);
    const headerLength = bytes.readUInt32LE(12);
    expect((16 + headerLength) % 8).toBe(0);
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength));
    for (const entry of header.arrays) expect(entry.byteOffset % 8).toBe(0);
  });

  it('refuses a missing file and says how to train one', () => {
    expectOneLineError(
      () => readCheckpoint(path.join(dir, 'nope.als')),
      /no checkpoint at .*nope\.als: train one with 'als train --out/,
    );
  });

  it('refuses a file that is not a checkpoint', () => {
    const file = path.join(dir, 'text.als');
    writeFileSync(file, 'userId,movieId,rating\n1,2,3\n');
    expectOneLineError(() => readCheckpoint(file), /not an als checkpoint/);
    writeFileSync(file, '');
    expectOneLineError(() => readCheckpoint(file), /not an als checkpoint/);
  });

  it('refuses another format version', () => {
    const file = path.join(dir, 'v2.als');
    writeCheckpoint(file, sample());
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(2, 8);
    writeFileSync(file, bytes);
    expectOneLineError(() => readCheckpoint(file), /format version 2 is not supported.*version 1/);
  });

  it('refuses a truncated file, cut anywhere', () => {
    const file = path.join(dir, 'cut.als');
    writeCheckpoint(file, sample());
    const bytes = readFileSync(file);
    const headerEnd = 16 + bytes.readUInt32LE(12);
    for (const length of [12, 40, headerEnd + 10, bytes.length - 1]) {
      writeFileSync(file, bytes.subarray(0, length));
      expectOneLineError(() => readCheckpoint(file), /truncated checkpoint/);
    }
  });

  it('detects a flipped bit in the arrays and in the header', () => {
    const file = path.join(dir, 'flip.als');
    writeCheckpoint(file, sample());
    const bytes = readFileSync(file);
    const headerEnd = 16 + bytes.readUInt32LE(12);
    const inPayload = Buffer.from(bytes);
    inPayload[headerEnd + 20]! ^= 0x01;
    writeFileSync(file, inPayload);
    expectOneLineError(() => readCheckpoint(file), /corrupted checkpoint \(checksum mismatch\)/);
    // Skipping verification (a latency-critical reader's choice) reads it anyway.
    expect(readCheckpoint(file, { verifyChecksum: false }).epochsDone).toBe(2);
    // A digit of a hyperparameter changed: still valid JSON, caught by the checksum.
    const text = bytes.toString('latin1');
    const at = text.indexOf('"tau":10');
    expect(at).toBeGreaterThan(0);
    const inHeader = Buffer.from(bytes);
    inHeader.write('"tau":19', at, 'latin1');
    writeFileSync(file, inHeader);
    expectOneLineError(() => readCheckpoint(file), /corrupted checkpoint \(checksum mismatch\)/);
    // Broken JSON in the header.
    const broken = Buffer.from(bytes);
    broken.write('}}}', 17, 'latin1');
    writeFileSync(file, broken);
    expectOneLineError(() => readCheckpoint(file), /corrupted checkpoint/);
  });

  it('refuses a checkpoint of another data set', () => {
    const file = path.join(dir, 'other.als');
    writeCheckpoint(file, sample());
    expectOneLineError(
      () => readCheckpoint(file, { expectFingerprint: 'ffff' }),
      /trained on another data set \(tiny/,
    );
  });

  it('replaces an existing checkpoint atomically and refuses to write NaN metrics', () => {
    const file = path.join(dir, 'replace.als');
    writeCheckpoint(file, sample());
    const bad = sample();
    bad.metrics[0]!.loss = Number.NaN;
    expect(() => writeCheckpoint(file, bad)).toThrow(/cannot write checkpoint/);
    // The old file is intact.
    expect(readCheckpoint(file).metrics[0]!.loss).toBe(10.5);
    const next = sample();
    next.epochsDone = 5;
    writeCheckpoint(file, next);
    expect(readCheckpoint(file).epochsDone).toBe(5);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
