/**
 * Parquet files Spark reads and writes: ratings (userId int, movieId int, rating float,
 * timestamp long) and factor tables (id int, features array<float>), the layout of Spark's
 * ALSModel userFactors/ and itemFactors/.
 *
 * Written with hyparquet-writer and read with hyparquet (pure JavaScript, ~1 MB installed,
 * see the commit that added them for the measured comparison with DuckDB). Both are loaded with
 * a dynamic import, so commands that never touch Parquet (train, recommend) do not load them.
 */
import { readFileSync } from 'node:fs';
import { AlsError } from '../errors.js';

/** Rows per row group: 1 Mi rows ≈ 20 MB of ratings, a unit Spark reads in parallel. */
const ROW_GROUP_ROWS = 1 << 20;
/** Rows per row group of a factor table: 8 Ki rows ≈ 1 MB at rank 30. */
const FACTOR_ROW_GROUP_ROWS = 1 << 13;

/**
 * The Spark SQL schema of a factor table, stored under this key of the file's key-value metadata
 * as Spark's own Parquet writer does, so Spark reads back exactly `id: int` (not null) and
 * `features: array<float>` (elements not null) instead of inferring it.
 */
export const SPARK_ROW_METADATA_KEY = 'org.apache.spark.sql.parquet.row.metadata';
const FACTOR_SPARK_SCHEMA = JSON.stringify({
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
const RATINGS_SPARK_SCHEMA = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'userId', type: 'integer', nullable: false, metadata: {} },
    { name: 'movieId', type: 'integer', nullable: false, metadata: {} },
    { name: 'rating', type: 'float', nullable: false, metadata: {} },
    { name: 'timestamp', type: 'long', nullable: false, metadata: {} },
  ],
});

/** Ratings as columns, original MovieLens ids. */
export interface RatingColumns {
  userIds: Int32Array;
  movieIds: Int32Array;
  ratings: Float32Array;
  /** Unix seconds. */
  timestamps: Int32Array;
}

/** A factor table: row r is (ids[r], factors[r*rank .. (r+1)*rank)). */
export interface FactorTable {
  ids: Int32Array;
  factors: Float32Array;
  rank: number;
}

/** Int32 seconds [start, end) widened into `out`, the int64 column Spark calls long, without a BigInt per value. */
function widenToInt64(
  values: Int32Array,
  start: number,
  end: number,
  out: BigInt64Array,
): BigInt64Array {
  const words = new Int32Array(out.buffer, out.byteOffset, (end - start) * 2);
  for (let i = start, w = 0; i < end; i++, w += 2) {
    const v = values[i]!;
    words[w] = v;
    words[w + 1] = v < 0 ? -1 : 0; // little-endian: low word, then the sign extension
  }
  return out.subarray(0, end - start);
}

/** The ratings schema: four required columns. */
const RATINGS_SCHEMA = [
  { name: 'spark_schema', num_children: 4 },
  { name: 'userId', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
  { name: 'movieId', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
  { name: 'rating', type: 'FLOAT' as const, repetition_type: 'REQUIRED' as const },
  { name: 'timestamp', type: 'INT64' as const, repetition_type: 'REQUIRED' as const },
];

/** Compression of ratings files: none (default, fastest) or snappy (Spark's default, ~half the size). */
export type RatingsCompression = 'none' | 'snappy';

/**
 * Writes a ratings table to one Parquet file. Ids and timestamps are PLAIN-encoded: the writer's
 * default tries a dictionary on every page, which costs more time than it saves on them. Ratings
 * take a handful of values (half stars), so they are dictionary-encoded: 4 bits instead of 32.
 * Uncompressed by default: at 32M ratings the pure-JavaScript snappy costs about 8 s of CPU
 * (measured 5.2 s vs 12.7 s CPU for the write) for a file 0.6 times the size (313 vs 528 MB).
 */
export async function writeRatingsParquet(
  file: string,
  columns: RatingColumns,
  compression: RatingsCompression = 'none',
): Promise<void> {
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const writer = fileWriter(file);
  const parquet = new ParquetWriter({
    writer,
    schema: RATINGS_SCHEMA,
    codec: compression === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED',
    statistics: false,
    kvMetadata: [{ key: SPARK_ROW_METADATA_KEY, value: RATINGS_SPARK_SCHEMA }],
    createdBy: 'als (hyparquet-writer)',
  });
  // One row group at a time: views of the columns, and one reused buffer for the widened
  // timestamps, instead of whole-file copies (32M ratings: 256 MB less).
  const n = columns.userIds.length;
  const stamps = new BigInt64Array(Math.max(1, Math.min(n, ROW_GROUP_ROWS)));
  for (let start = 0; start < n || start === 0; start += ROW_GROUP_ROWS) {
    const end = Math.min(n, start + ROW_GROUP_ROWS);
    await parquet.write({
      rowGroupSize: Math.max(1, end - start),
      columnData: [
        { name: 'userId', data: columns.userIds.subarray(start, end), encoding: 'PLAIN' },
        { name: 'movieId', data: columns.movieIds.subarray(start, end), encoding: 'PLAIN' },
        { name: 'rating', data: columns.ratings.subarray(start, end), encoding: 'RLE_DICTIONARY' },
        {
          name: 'timestamp',
          data: widenToInt64(columns.timestamps, start, end, stamps),
          encoding: 'PLAIN',
        },
      ],
    });
    if (n === 0) break;
  }
  await parquet.finish();
}

/**
 * The Parquet schema Spark writes for a DataFrame of (id: Int, features: Array[Float]):
 * `required int32 id; optional group features (LIST) { repeated group list { required float element; } }`
 * (the three-level list of the Parquet spec's LogicalTypes.md).
 */
const FACTOR_SCHEMA = [
  { name: 'spark_schema', num_children: 2 },
  { name: 'id', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
  {
    name: 'features',
    repetition_type: 'OPTIONAL' as const,
    converted_type: 'LIST' as const,
    logical_type: { type: 'LIST' as const },
    num_children: 1,
  },
  { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
  { name: 'element', type: 'FLOAT' as const, repetition_type: 'REQUIRED' as const },
];

/**
 * Writes a factor table to one Parquet file in Spark's ALSModel layout, uncompressed: snappy
 * does not shrink float factors (measured: 25 MB for 200,948 × 30 floats, 24 MB raw) and its
 * pure-JavaScript encoder costs time. Spark reads either.
 */
export async function writeFactorsParquet(
  file: string,
  table: FactorTable,
  rowGroupRows = FACTOR_ROW_GROUP_ROWS,
): Promise<void> {
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const { ids, factors, rank } = table;
  const parquet = new ParquetWriter({
    writer: fileWriter(file),
    schema: FACTOR_SCHEMA,
    codec: 'UNCOMPRESSED',
    statistics: false,
    kvMetadata: [{ key: SPARK_ROW_METADATA_KEY, value: FACTOR_SPARK_SCHEMA }],
    createdBy: 'als (hyparquet-writer)',
  });
  // Row group by row group: the writer's list encoder builds per-value level arrays, and small
  // groups keep them short-lived (200,948 × 30: 0.93 s CPU against 1.05–1.11 s in one group).
  for (let start = 0; start < ids.length || start === 0; start += rowGroupRows) {
    const end = Math.min(ids.length, start + rowGroupRows);
    // The list encoder walks plain arrays, one per row.
    const rows: number[][] = new Array(end - start);
    for (let r = start; r < end; r++)
      rows[r - start] = Array.from(factors.subarray(r * rank, (r + 1) * rank));
    await parquet.write({
      rowGroupSize: Math.max(1, end - start),
      columnData: [
        { name: 'id', data: ids.subarray(start, end) },
        { name: 'features', data: rows },
      ],
    });
    if (ids.length === 0) break;
  }
  await parquet.finish();
}

function toArrayBuffer(file: string): ArrayBuffer {
  const bytes = readFileSync(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Reads factor tables from the Parquet part files of one Spark factor folder (any row-group and
 * page layout, any codec hyparquet decodes: Spark writes snappy). `expectedRank` is the rank of
 * the model's metadata: every row must hold exactly that many finite values.
 */
export async function readFactorsParquet(
  files: string[],
  expectedRank: number,
  what: string,
): Promise<FactorTable> {
  const { parquetMetadata, parquetSchema, parquetRead } = await import('hyparquet');
  const parts: FactorTable[] = [];
  for (const file of files) {
    let buffer: ArrayBuffer;
    let metadata;
    try {
      buffer = toArrayBuffer(file);
      metadata = parquetMetadata(buffer);
    } catch (error) {
      throw new AlsError(
        `${file}: not a readable Parquet file (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      );
    }
    const tree = parquetSchema(metadata);
    const idColumn = tree.children.find((c) => c.element.name === 'id');
    const featureColumn = tree.children.find((c) => c.element.name === 'features');
    if (idColumn === undefined || featureColumn === undefined) {
      throw new AlsError(
        `${file}: ${what} must have columns id and features (found ${tree.children.map((c) => c.element.name).join(', ')})`,
      );
    }
    if (idColumn.element.type !== 'INT32')
      throw new AlsError(`${file}: ${what} column id must be int (found ${idColumn.element.type})`);
    let leaf = featureColumn;
    while (leaf.children.length === 1) leaf = leaf.children[0]!;
    if (
      leaf.children.length !== 0 ||
      (leaf.element.type !== 'FLOAT' && leaf.element.type !== 'DOUBLE')
    ) {
      throw new AlsError(`${file}: ${what} column features must be array<float>`);
    }
    const rows = Number(metadata.num_rows);
    const ids = new Int32Array(rows);
    const factors = new Float32Array(rows * expectedRank);
    let problem: string | null = null;
    await parquetRead({
      file: buffer,
      metadata,
      columns: ['id', 'features'],
      onChunk: (chunk) => {
        const data = chunk.columnData as ArrayLike<unknown>;
        if (chunk.columnName === 'id') {
          for (let i = 0; i < data.length; i++) ids[chunk.rowStart + i] = data[i] as number;
          return;
        }
        for (let i = 0; i < data.length && problem === null; i++) {
          const row = data[i] as ArrayLike<number> | null;
          const r = chunk.rowStart + i;
          if (row === null || row === undefined || row.length !== expectedRank) {
            problem = `rank mismatch: the metadata says rank ${expectedRank} but ${what} row ${r} holds ${row === null || row === undefined ? 'no' : row.length} values`;
            break;
          }
          const base = r * expectedRank;
          for (let k = 0; k < expectedRank; k++) {
            const x = row[k]!;
            if (!Number.isFinite(x)) {
              problem = `non-finite factor (${x}) in ${what} row ${r}`;
              break;
            }
            factors[base + k] = x;
          }
        }
      },
    });
    if (problem !== null) throw new AlsError(`${file}: ${problem}`);
    parts.push({ ids, factors, rank: expectedRank });
  }
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((n, p) => n + p.ids.length, 0);
  const ids = new Int32Array(total);
  const factors = new Float32Array(total * expectedRank);
  let at = 0;
  for (const p of parts) {
    ids.set(p.ids, at);
    factors.set(p.factors, at * expectedRank);
    at += p.ids.length;
  }
  return { ids, factors, rank: expectedRank };
}
