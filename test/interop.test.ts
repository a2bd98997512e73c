import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict } from '../src/core/als.js';
import { readCheckpoint, type Checkpoint } from '../src/data/checkpoint.js';
import { loadDataset } from '../src/data/load.js';
import type { Dataset } from '../src/data/types.js';
import { writeSparkModelInto, sparkModelMetadata } from '../src/interop/spark.js';
import { movielensDir } from './helpers/movielens.js';

// Spark interop on ml-latest-small: a latent model with the default hyperparameters (5 epochs,
// for speed) is trained by `als train`, exported for Spark, imported back, and compared.
// Parquet files are read back with hyparquet's reader directly (not with our import code),
// which shares no code path with the writer (hyparquet-writer).
const bin = path.resolve('bin/als.js');
const work = mkdtempSync(path.join(tmpdir(), 'als-interop-'));
const model = path.join(work, 'latent.als');
const sparkDir = path.join(work, 'spark-model');
const imported = path.join(work, 'imported.als');
let small: string;
let original: Checkpoint;
let dataset: Dataset;

function als(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...process.env, ALS_DEBUG: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(...args: string[]): string {
  const r = als(...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^als: /);
  expect(lines[0]).not.toMatch(/internal error|\n\s+at /);
  expect(lines[0]).toMatch(pattern);
}

function arrayBufferOf(file: string): ArrayBuffer {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Reads every column of a Parquet file with hyparquet: name → values (row order). */
async function readColumns(file: string): Promise<Map<string, unknown[]>> {
  const buffer = arrayBufferOf(file);
  const metadata = parquetMetadata(buffer);
  const columns = new Map<string, unknown[]>();
  await parquetRead({
    file: buffer,
    metadata,
    onChunk: (chunk) => {
      const list = columns.get(chunk.columnName) ?? new Array(Number(metadata.num_rows));
      for (let i = 0; i < chunk.columnData.length; i++)
        list[chunk.rowStart + i] = chunk.columnData[i];
      columns.set(chunk.columnName, list);
    },
  });
  return columns;
}

/** The schema as [name, physical type, repetition, converted type] rows, root first. */
function schemaRows(file: string): unknown[][] {
  return parquetMetadata(arrayBufferOf(file)).schema.map((s) => [
    s.name,
    s.type ?? null,
    s.repetition_type ?? null,
    s.converted_type ?? null,
  ]);
}

const partFile = (dir: string): string => {
  const parts = readdirSync(dir).filter((f) => f.endsWith('.parquet'));
  expect(parts).toHaveLength(1);
  return path.join(dir, parts[0]!);
};

beforeAll(async () => {
  if (!existsSync(path.resolve('dist/cli/main.js')))
    throw new Error('dist/ is missing: run npm run build first');
  small = movielensDir('ml-latest-small');
  ok('train', '--data', small, '--model', 'latent', '--epochs', '5', '--quiet', '--out', model);
  original = readCheckpoint(model);
  dataset = await loadDataset(small, { cache: false });
  ok('export', '--format', 'spark', model, '--out', sparkDir);
  ok('import', '--format', 'spark', sparkDir, '--data', small, '--out', imported);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('als export --format spark: the directory layout of Spark ALSModelWriter', () => {
  it('has metadata/part-00000, _SUCCESS markers and one Parquet part per factor folder', () => {
    expect(readdirSync(sparkDir).sort()).toEqual(['itemFactors', 'metadata', 'userFactors']);
    expect(readdirSync(path.join(sparkDir, 'metadata')).sort()).toEqual(['_SUCCESS', 'part-00000']);
    for (const side of ['userFactors', 'itemFactors']) {
      const names = readdirSync(path.join(sparkDir, side)).sort();
      expect(names).toHaveLength(2);
      expect(names[0]).toBe('_SUCCESS');
      expect(names[1]).toMatch(/^part-00000-[0-9a-f-]{36}-c000\.parquet$/);
    }
    // No temp folder left next to it.
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the metadata JSON of DefaultParamsWriter field by field (fixture derived from Spark source)', () => {
    // The fixture test/fixtures/spark-alsmodel-metadata.json is derived from apache/spark
    // (ALS.scala at 01b315cdebdabc0ff5ed1de246617013aff663db, ReadWrite.scala at
    // 01e0309f63cbc86647b70e0bf9ca6613b0b26d6a), see src/interop/spark.ts for the citations:
    // - ReadWrite.scala DefaultParamsWriter.getMetadataToSave: ("class" -> cls) ~ ("timestamp" ->
    //   System.currentTimeMillis()) ~ ("sparkVersion" -> sc.version) ~ ("uid" -> uid) ~
    //   ("paramMap" -> jsonParams) ~ ("defaultParamMap" -> jsonDefaultParams), then the extra
    //   metadata, rendered compact on one line;
    // - ALS.scala ALSModelWriter.saveImpl: extraMetadata = "rank" -> instance.rank;
    // - ALSModelParams setDefault(blockSize -> 4096); ALSParams setDefault(userCol -> "user",
    //   itemCol -> "item", coldStartStrategy -> "nan"); HasPredictionCol default "prediction";
    //   ALS.fit: setBlockSize($(blockSize)) and copyValues(model) (explicit params → paramMap).
    const fixture = JSON.parse(
      readFileSync(path.resolve('test/fixtures/spark-alsmodel-metadata.json'), 'utf8'),
    ) as Record<string, unknown>;
    const text = readFileSync(path.join(sparkDir, 'metadata', 'part-00000'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    const written = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(written)).toEqual(Object.keys(fixture));
    expect(written.class).toBe(fixture.class);
    expect(typeof written.timestamp).toBe('number');
    expect(Math.abs((written.timestamp as number) - Date.now())).toBeLessThan(10 * 60_000);
    expect(written.sparkVersion).toMatch(/^3\.\d+\.\d+$/);
    expect(written.uid).toMatch(/^als_[0-9a-f]{12}$/);
    expect(written.paramMap).toEqual(fixture.paramMap);
    expect(written.defaultParamMap).toEqual(fixture.defaultParamMap);
    expect(written.rank).toBe(original.state.hyper.dim + 2);
  });

  it('writes factor Parquet files with exactly Spark’s schema (id int, features array<float>), read by hyparquet', async () => {
    const expected = [
      ['spark_schema', null, null, null],
      ['id', 'INT32', 'REQUIRED', null],
      ['features', null, 'OPTIONAL', 'LIST'],
      ['list', null, 'REPEATED', null],
      ['element', 'FLOAT', 'REQUIRED', null],
    ];
    const rank = original.state.hyper.dim + 2;
    for (const [side, ids] of [
      ['userFactors', original.userIds],
      ['itemFactors', original.itemIds],
    ] as const) {
      const file = partFile(path.join(sparkDir, side));
      expect(schemaRows(file)).toEqual(expected);
      const metadata = parquetMetadata(arrayBufferOf(file));
      const sparkSchema = metadata.key_value_metadata?.find(
        (kv) => kv.key === 'org.apache.spark.sql.parquet.row.metadata',
      );
      expect(JSON.parse(sparkSchema!.value!)).toEqual({
        type: 'struct',
        fields: [
          { name: 'id', type: 'integer', nullable: false, metadata: {} },
          {
            name: 'features',
            type: { type: 'array', elementType: 'float', containsNull: false },
            nullable: true,
            metadata: {},
          },
        ],
      });
      expect(parquetSchema(metadata).children.map((c) => c.element.name)).toEqual([
        'id',
        'features',
      ]);
      const columns = await readColumns(file);
      expect(Int32Array.from(columns.get('id') as number[])).toEqual(ids);
      const features = columns.get('features') as number[][];
      expect(features).toHaveLength(ids.length);
      expect(features.every((f) => f.length === rank)).toBe(true);
    }
  });

  it("gives our predictions with Spark's transform (float32 dot product of the Parquet features) to 1e-5", async () => {
    const users = (await readColumns(partFile(path.join(sparkDir, 'userFactors')))).get(
      'features',
    ) as number[][];
    const items = (await readColumns(partFile(path.join(sparkDir, 'itemFactors')))).get(
      'features',
    ) as number[][];
    const rank = original.state.hyper.dim + 2;
    let worst = 0;
    let pairs = 0;
    for (let u = 0; u < original.state.numUsers; u += 3) {
      for (let i = 0; i < original.state.numItems; i += 7) {
        // ALSModel.transform's predict UDF: dotProduct += a(k) * b(k) in Float.
        let dot = 0;
        for (let k = 0; k < rank; k++)
          dot = Math.fround(dot + Math.fround(users[u]![k]! * items[i]![k]!));
        worst = Math.max(worst, Math.abs(dot - predict(original.state, u, i)));
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(250_000);
    expect(worst).toBeLessThan(1e-5);
    expect(worst).toBeGreaterThan(0); // float32: not bit-identical, so the comparison is real
  });
});

describe('als import --format spark: back to an als checkpoint', () => {
  it('restores the model: every prediction equal to 1e-5, biases unfolded, same data set and split', () => {
    const back = readCheckpoint(imported);
    expect(back.state.hyper.kind).toBe('latent');
    expect(back.state.hyper.dim).toBe(original.state.hyper.dim);
    expect(back.dataset.fingerprint).toBe(original.dataset.fingerprint);
    expect(back.split).toEqual(original.split);
    expect(back.state.globalMean).toBeCloseTo(original.state.globalMean, 12);
    expect(back.itemTrainCounts).toEqual(original.itemTrainCounts);
    let worst = 0;
    for (let u = 0; u < original.state.numUsers; u++) {
      for (let i = u % 5; i < original.state.numItems; i += 5)
        worst = Math.max(
          worst,
          Math.abs(predict(back.state, u, i) - predict(original.state, u, i)),
        );
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('gives the same top-10 "Toy Story" lists (similar and recommend --user-likes) and the same eval RMSE', () => {
    for (const args of [
      ['similar', 'Toy Story', '--json'],
      ['recommend', '--user-likes', 'Toy Story', '--json'],
      ['recommend', '--user', '1', '--json'],
    ]) {
      const a = JSON.parse(ok(...args, '--model', model));
      const b = JSON.parse(ok(...args, '--model', imported));
      const rows = (j: {
        similar?: { movieId: number }[];
        recommendations?: { movieId: number }[];
      }) => (j.similar ?? j.recommendations)!.map((r) => r.movieId);
      expect(rows(a)).toHaveLength(10);
      expect(rows(b)).toEqual(rows(a));
    }
    const ea = JSON.parse(ok('eval', '--model', model, '--json'));
    const eb = JSON.parse(ok('eval', '--model', imported, '--json'));
    expect(eb.sameSplitAsTraining).toBe(true);
    expect(Math.abs(eb.ratings.all.rmse - ea.ratings.all.rmse)).toBeLessThan(1e-5);
    expect(eb.ranking.precision).toBeCloseTo(ea.ranking.precision, 6);
    const html = path.join(work, 'imported.report.html');
    ok('report', '--model', imported, '--out', html);
    expect(readFileSync(html, 'utf8')).toMatch(/<html/i);
  });

  it('round-trips a genre model too: its genre priors are baked into the movie factors, unrated movies included', () => {
    const genre = path.join(work, 'genre.als');
    ok('train', '--data', small, '--model', 'genre', '--epochs', '5', '--quiet', '--out', genre);
    ok('export', '--format', 'spark', genre, '--out', path.join(work, 'genre-spark'));
    ok(
      'import',
      '--format',
      'spark',
      path.join(work, 'genre-spark'),
      '--data',
      small,
      '--out',
      path.join(work, 'genre-back.als'),
    );
    const a = readCheckpoint(genre);
    const b = readCheckpoint(path.join(work, 'genre-back.als'));
    const unrated = Array.from(a.itemTrainCounts.keys()).filter((i) => a.itemTrainCounts[i] === 0);
    expect(unrated.length).toBeGreaterThan(100);
    let worst = 0;
    for (let u = 0; u < a.state.numUsers; u += 2) {
      for (const i of unrated)
        worst = Math.max(worst, Math.abs(predict(b.state, u, i) - predict(a.state, u, i)));
      for (let i = u % 9; i < a.state.numItems; i += 9)
        worst = Math.max(worst, Math.abs(predict(b.state, u, i) - predict(a.state, u, i)));
    }
    expect(worst).toBeLessThan(1e-5);
    // An unrated movie's factor is its genre prior (not zero), and it survives the round trip.
    const K = a.state.hyper.dim;
    const n = unrated[0]!;
    const prior = a.state.itemFactors.subarray(n * K, (n + 1) * K);
    expect(Math.hypot(...prior)).toBeGreaterThan(0.01);
    const back = b.state.itemFactors.subarray(n * K, (n + 1) * K);
    for (let k = 0; k < K; k++) expect(Math.abs(back[k]! - prior[k]!)).toBeLessThan(1e-6);
  });

  it('imports a model Spark fitted (no bias columns) as a latent model with μ = 0 and zero biases: r̂ = u·v', async () => {
    // A bias-free model of rank 3 with some of the data set's ids, written in Spark's layout.
    const dir = path.join(work, 'spark-fitted');
    mkdirSync(dir);
    const userIds = dataset.userIds.subarray(0, 50);
    const itemIds = dataset.itemIds.subarray(0, 200);
    const userFactors = Float32Array.from({ length: 50 * 3 }, (_, j) => Math.sin(j) * 0.8);
    const itemFactors = Float32Array.from({ length: 200 * 3 }, (_, j) => Math.cos(j) * 1.1);
    await writeSparkModelInto(dir, {
      metadata: sparkModelMetadata(3),
      users: { ids: userIds, factors: userFactors, rank: 3 },
      items: { ids: itemIds, factors: itemFactors, rank: 3 },
    });
    const out = path.join(work, 'spark-fitted.als');
    const stdout = ok('import', '--format', 'spark', dir, '--data', small, '--out', out);
    expect(stdout).toMatch(/dim 3, no biases/);
    expect(stdout).toMatch(/50 of 610 users and 200 of 9742 movies/);
    const c = readCheckpoint(out);
    expect(c.state.globalMean).toBe(0);
    expect(c.state.hyper.dim).toBe(3);
    expect(c.state.userBias.every((b) => b === 0) && c.state.itemBias.every((b) => b === 0)).toBe(
      true,
    );
    for (const [u, i] of [
      [0, 0],
      [7, 123],
      [49, 199],
    ] as const) {
      let dot = 0;
      for (let k = 0; k < 3; k++) dot += userFactors[u * 3 + k]! * itemFactors[i * 3 + k]!;
      expect(predict(c.state, u, i)).toBeCloseTo(dot, 12);
    }
    // Users and movies absent from the Spark model have zero factors.
    expect(predict(c.state, 60, 0)).toBe(0);
    // Every checkpoint reader works on it.
    expect(
      JSON.parse(
        ok(
          'similar',
          '--movie-id',
          String(itemIds[5]),
          '--model',
          out,
          '--min-ratings',
          '0',
          '--json',
        ),
      ).similar.length,
    ).toBeGreaterThan(0);
    expect(JSON.parse(ok('eval', '--model', out, '--json')).ratings.all.count).toBe(
      original.split.testRatings,
    );
    const recs = JSON.parse(
      ok('recommend', '--user', String(userIds[0]), '--model', out, '--min-ratings', '0', '--json'),
    ).recommendations;
    expect(recs).toHaveLength(10);
  });
});

describe('refusals: one line, non-zero exit, nothing written', () => {
  const refusedOut = (): string =>
    path.join(work, `refused-${Math.random().toString(36).slice(2)}.als`);

  it('a folder that is not an ALSModel directory', () => {
    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    const out = refusedOut();
    expectOneLineError(
      als('import', '--format', 'spark', empty, '--data', small, '--out', out),
      /not a Spark ALSModel directory \(no metadata\/part-00000\)/,
    );
    expect(existsSync(out)).toBe(false);
    const other = path.join(work, 'other-class');
    mkdirSync(path.join(other, 'metadata'), { recursive: true });
    writeFileSync(
      path.join(other, 'metadata', 'part-00000'),
      '{"class":"org.apache.spark.ml.feature.StringIndexerModel","rank":3}\n',
    );
    expectOneLineError(
      als('import', '--format', 'spark', other, '--data', small, '--out', out),
      /not a Spark ALSModel directory \(metadata class is "org\.apache\.spark\.ml\.feature\.StringIndexerModel"/,
    );
    expectOneLineError(
      als('import', '--format', 'spark', path.join(work, 'nowhere'), '--data', small, '--out', out),
      /not a Spark ALSModel directory \(no such folder\)/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a rank that does not match the arrays', () => {
    const dir = path.join(work, 'bad-rank');
    const copy = spawnSync('cp', ['-r', sparkDir, dir]);
    expect(copy.status).toBe(0);
    const metadataFile = path.join(dir, 'metadata', 'part-00000');
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8'));
    metadata.rank = original.state.hyper.dim + 1;
    writeFileSync(metadataFile, `${JSON.stringify(metadata)}\n`);
    const out = refusedOut();
    expectOneLineError(
      als('import', '--format', 'spark', dir, '--data', small, '--out', out),
      new RegExp(
        `rank mismatch: the metadata says rank ${original.state.hyper.dim + 1} but userFactors row 0 holds ${original.state.hyper.dim + 2} values`,
      ),
    );
    expect(existsSync(out)).toBe(false);
  });

  it('ids missing from the data set, with how many', async () => {
    const ml100k = await loadDataset(movielensDir('ml-100k'), { cache: false });
    const known = new Set(ml100k.itemIds);
    const missingMovies = Array.from(original.itemIds).filter((id) => !known.has(id)).length;
    expect(missingMovies).toBeGreaterThan(0);
    const out = refusedOut();
    expectOneLineError(
      als('import', '--format', 'spark', sparkDir, '--data', movielensDir('ml-100k'), '--out', out),
      new RegExp(
        `${missingMovies} of ${original.itemIds.length} movie ids are not in the data set ml-100k`,
      ),
    );
    expect(existsSync(out)).toBe(false);
  });

  it('non-finite factors', async () => {
    const dir = path.join(work, 'nan-model');
    mkdirSync(dir);
    const factors = new Float32Array(4 * 2).fill(0.5);
    factors[5] = Number.NaN;
    await writeSparkModelInto(dir, {
      metadata: sparkModelMetadata(2),
      users: { ids: dataset.userIds.subarray(0, 4), factors, rank: 2 },
      items: { ids: dataset.itemIds.subarray(0, 4), factors: new Float32Array(8).fill(1), rank: 2 },
    });
    const out = refusedOut();
    expectOneLineError(
      als('import', '--format', 'spark', dir, '--data', small, '--out', out),
      /non-finite factor \(NaN\) in userFactors row 2/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('an export over an existing path', () => {
    expectOneLineError(
      als('export', '--format', 'spark', model, '--out', sparkDir),
      /already exists; remove it or choose another --out/,
    );
  });
});

describe('als export --format parquet: ratings and splits for a Spark job', () => {
  const expectedSchema = [
    ['root', null, null, null],
    ['userId', 'INT32', 'REQUIRED', null],
    ['movieId', 'INT32', 'REQUIRED', null],
    ['rating', 'FLOAT', 'REQUIRED', null],
    ['timestamp', 'INT64', 'REQUIRED', null],
  ];

  it('writes every rating with the exact schema and the values of ratings.csv', async () => {
    const out = path.join(work, 'ratings-all');
    expect(ok('export', '--format', 'parquet', '--data', small, '--out', out)).toMatch(
      /ratings\.parquet \(100836 ratings\)/,
    );
    const file = path.join(out, 'ratings.parquet');
    const schema = schemaRows(file);
    expect(schema.slice(1)).toEqual(expectedSchema.slice(1));
    const codecs = parquetMetadata(arrayBufferOf(file)).row_groups[0]!.columns.map(
      (c) => c.meta_data!.codec,
    );
    expect(codecs).toEqual(['UNCOMPRESSED', 'UNCOMPRESSED', 'UNCOMPRESSED', 'UNCOMPRESSED']);
    const columns = await readColumns(file);
    // Independent of the loader: the CSV's own lines, as (user, movie) → [rating, timestamp].
    const csv = new Map<string, [number, number]>();
    for (const line of readFileSync(path.join(small, 'ratings.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)) {
      const [u, m, r, t] = line.split(',');
      csv.set(`${u},${m}`, [Number(r), Number(t)]);
    }
    const users = columns.get('userId') as number[];
    expect(users).toHaveLength(csv.size);
    const movies = columns.get('movieId') as number[];
    const ratings = columns.get('rating') as number[];
    const stamps = columns.get('timestamp') as bigint[];
    let mismatches = 0;
    for (let k = 0; k < users.length; k++) {
      const row = csv.get(`${users[k]},${movies[k]}`);
      if (row === undefined || row[0] !== ratings[k] || BigInt(row[1]) !== stamps[k]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('writes a split as train.parquet and test.parquet: the held-out ratings als eval uses', async () => {
    const out = path.join(work, 'ratings-split');
    ok(
      'export',
      '--format',
      'parquet',
      '--data',
      small,
      '--split',
      'random:0.1',
      '--seed',
      '1',
      '--compression',
      'snappy',
      '--out',
      out,
    );
    const codecs = parquetMetadata(
      arrayBufferOf(path.join(out, 'train.parquet')),
    ).row_groups[0]!.columns.map((c) => c.meta_data!.codec);
    expect(codecs).toEqual(['SNAPPY', 'SNAPPY', 'SNAPPY', 'SNAPPY']);
    const train = await readColumns(path.join(out, 'train.parquet'));
    const test = await readColumns(path.join(out, 'test.parquet'));
    expect(schemaRows(path.join(out, 'test.parquet')).slice(1)).toEqual(expectedSchema.slice(1));
    expect(train.get('userId')).toHaveLength(original.split.trainRatings);
    expect(test.get('userId')).toHaveLength(original.split.testRatings);
    // The test part is exactly what the model was not trained on: no (user, movie) of it is in
    // the checkpoint's training rows.
    const index = new Map(Array.from(original.userIds, (id, u) => [id, u]));
    const itemIndex = new Map(Array.from(original.itemIds, (id, i) => [id, i]));
    const { offsets, items } = original.trainItemsByUser;
    const testUsers = test.get('userId') as number[];
    const testMovies = test.get('movieId') as number[];
    let seen = 0;
    for (let t = 0; t < testUsers.length; t++) {
      const u = index.get(testUsers[t]!)!;
      const i = itemIndex.get(testMovies[t]!)!;
      if (items.subarray(offsets[u]!, offsets[u + 1]!).includes(i)) seen++;
    }
    expect(seen).toBe(0);
  });
});

describe('als export --format npz / npy', () => {
  /** A minimal .npy parser written here (independent of the writer). */
  function parseNpy(bytes: Uint8Array): { descr: string; shape: number[]; data: ArrayBuffer } {
    expect(Array.from(bytes.subarray(0, 6))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect((10 + headerLength) % 64).toBe(0);
    const descr = /'descr': '([^']+)'/.exec(header)![1]!;
    expect(header).toMatch(/'fortran_order': False/);
    const shape = /'shape': \(([^)]*)\)/
      .exec(header)![1]!
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(Number);
    const start = 10 + headerLength;
    return { descr, shape, data: bytes.slice(start).buffer };
  }

  it('writes factors, biases and id maps that give the model’s predictions', () => {
    const out = path.join(work, 'model.npz');
    ok('export', '--format', 'npz', model, '--out', out);
    const files = unzipSync(readFileSync(out));
    expect(Object.keys(files).sort()).toEqual([
      'global_mean.npy',
      'item_bias.npy',
      'item_factors.npy',
      'item_ids.npy',
      'user_bias.npy',
      'user_factors.npy',
      'user_ids.npy',
    ]);
    const U = parseNpy(files['user_factors.npy']!);
    const V = parseNpy(files['item_factors.npy']!);
    const dim = original.state.hyper.dim;
    expect(U.descr).toBe('<f8');
    expect(U.shape).toEqual([610, dim]);
    expect(V.shape).toEqual([9742, dim]);
    expect(parseNpy(files['item_ids.npy']!).descr).toBe('<i4');
    expect(new Int32Array(parseNpy(files['item_ids.npy']!).data)).toEqual(original.itemIds);
    const u = new Float64Array(U.data);
    const v = new Float64Array(V.data);
    const b = new Float64Array(parseNpy(files['user_bias.npy']!).data);
    const c = new Float64Array(parseNpy(files['item_bias.npy']!).data);
    const mu = new Float64Array(parseNpy(files['global_mean.npy']!).data)[0]!;
    for (const [m, n] of [
      [0, 0],
      [100, 4000],
      [609, 9741],
    ] as const) {
      let r = mu + b[m]! + c[n]!;
      for (let k = 0; k < dim; k++) r += u[m * dim + k]! * v[n * dim + k]!;
      expect(r).toBeCloseTo(predict(original.state, m, n), 12);
    }
    // numpy itself, when this machine has it.
    const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (numpy.status === 0) {
      const script = `import numpy as np\nz = np.load(${JSON.stringify(out)})\np = z['global_mean'][0] + z['user_bias'][100] + z['item_bias'][4000] + z['user_factors'][100] @ z['item_factors'][4000]\nprint(z['user_factors'].shape); print(z['item_ids'].dtype); print(repr(float(p)))`;
      const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const [shape, dtype, value] = r.stdout.trim().split('\n');
      expect(shape).toBe(`(610, ${dim})`);
      expect(dtype).toBe('int32');
      expect(Number(value)).toBeCloseTo(predict(original.state, 100, 4000), 10);
    }
  });

  it('--format npy writes one .npy per array in a folder', () => {
    const out = path.join(work, 'model-npy');
    ok('export', '--format', 'npy', model, '--out', out);
    expect(readdirSync(out).sort()).toEqual([
      'global_mean.npy',
      'item_bias.npy',
      'item_factors.npy',
      'item_ids.npy',
      'user_bias.npy',
      'user_factors.npy',
      'user_ids.npy',
    ]);
    expect(parseNpy(readFileSync(path.join(out, 'user_ids.npy'))).shape).toEqual([610]);
  });
});

describe('als spark-job', () => {
  it('writes a PySpark program with the mapped hyperparameters that compiles', () => {
    const out = path.join(work, 'job.py');
    const stdout = ok(
      'spark-job',
      '--model',
      model,
      '--parquet',
      'ratings-split',
      '--model-out',
      'spark-fitted-model',
      '--out',
      out,
    );
    expect(stdout).toMatch(/ALS\(rank=30, maxIter=5, regParam=1\.3\)/);
    expect(stdout).toMatch(/differs from als: no biases/);
    // The default ridge grows as √n; Spark's regParam always grows as n: said, not hidden.
    expect(stdout).toMatch(
      /Spark scales regParam by each row's count n \(ALS-WR\); this model scaled τ by n\^0\.5/,
    );
    const source = readFileSync(out, 'utf8');
    expect(source).toMatch(/from pyspark\.ml\.recommendation import ALS/);
    expect(source).toMatch(/rank=30,\n\s+maxIter=5,\n\s+regParam=1\.3,/);
    expect(source).toMatch(/TRAIN = "ratings-split\/train\.parquet"/);
    expect(source).toMatch(/model\.write\(\)\.overwrite\(\)\.save\(MODEL_OUT\)/);
    expect(source).toMatch(
      /als import --format spark spark-fitted-model --data <data set> --split random:0\.1 --seed 1/,
    );
    const python = spawnSync('python3', ['--version']);
    if (python.status !== 0) return; // no python3 on this machine: the compile check is skipped
    const compiled = spawnSync('python3', ['-m', 'py_compile', out], { encoding: 'utf8' });
    expect(compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
  });
});

describe('start-up path', () => {
  it('als train / recommend never load the Parquet libraries: no static import reaches them from the CLI', () => {
    // Walk the static import graph of the compiled CLI (dynamic `await import(...)` excluded).
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
        const spec = match[1]!;
        if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
        else packages.add(spec);
      }
    };
    visit(path.resolve('dist/cli/main.js'));
    expect(seen.has(path.resolve('dist/cli/export.js'))).toBe(true);
    expect([...seen].filter((f) => f.includes(`${path.sep}interop`))).toEqual([]);
    expect([...packages].filter((p) => p.startsWith('hyparquet'))).toEqual([]);
  });
});
