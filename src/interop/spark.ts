/**
 * Spark MLlib ALSModel directories, laid out as Spark's own writer lays them out, so that
 * `ALSModel.load(dir)` reads what we write and we read what Spark saves:
 *
 *   dir/metadata/part-00000     one line of JSON (DefaultParamsWriter.saveMetadata writes it with
 *   dir/metadata/_SUCCESS       saveAsTextFile on one partition, hence part-00000 and _SUCCESS)
 *   dir/userFactors/part-00000-<uuid>-c000.parquet, _SUCCESS    (id: int, features: array<float>)
 *   dir/itemFactors/part-00000-<uuid>-c000.parquet, _SUCCESS
 *   (Spark names its files part-<partition>-<job uuid>-c<counter>[.<codec>].parquet; ours are
 *   uncompressed, see writeFactorsParquet.)
 *
 * Sources (apache/spark, read at commit 01b315cdebdabc0ff5ed1de246617013aff663db of
 * mllib/src/main/scala/org/apache/spark/ml/recommendation/ALS.scala and
 * 01e0309f63cbc86647b70e0bf9ca6613b0b26d6a of mllib/src/main/scala/org/apache/spark/ml/util/ReadWrite.scala):
 * - ALS.scala, object ALSModel, class ALSModelWriter.saveImpl: extra metadata `"rank" -> instance.rank`
 *   passed to DefaultParamsWriter.saveMetadata; factors written with
 *   `instance.userFactors.write.format("parquet").save(new Path(path, "userFactors"))`, same for
 *   "itemFactors". ALSModelReader.load: loadMetadata(path, sparkSession, className) checks `class`,
 *   reads `(metadata \ "rank").extract[Int]`, then the two Parquet folders.
 * - ALS.scala, ALSModel.transform's predict UDF: the prediction is the float32 dot product of the
 *   two features arrays over `rank` entries (NaN when a side is missing).
 * - ReadWrite.scala, DefaultParamsWriter.getMetadataToSave: the JSON object is, in this order,
 *   class, timestamp (System.currentTimeMillis), sparkVersion, uid, paramMap, defaultParamMap, then
 *   the extra metadata; saveMetadata writes it with saveAsTextFile(new Path(path, "metadata")) on
 *   one partition. DefaultParamsReader.parseMetadata extracts class, uid, timestamp, sparkVersion,
 *   defaultParamMap and paramMap.
 * - The model's params (ALSModelParams: userCol, itemCol, coldStartStrategy, plus predictionCol
 *   from HasPredictionCol and blockSize from HasBlockSize). Defaults: ALSModelParams
 *   `setDefault(blockSize -> 4096)`; ALSParams `userCol -> "user", itemCol -> "item",
 *   coldStartStrategy -> "nan"`; HasPredictionCol "prediction". ALS.fit builds the model with
 *   `new ALSModel(uid, $(rank), userDF, itemDF).setBlockSize($(blockSize))` and copyValues(model)
 *   (Params.copyValues copies the estimator's defaults the model also has into its
 *   defaultParamMap and its explicitly set ones into its paramMap), so a fitted model's paramMap
 *   holds the columns the user set plus blockSize, and its defaultParamMap those five defaults.
 *   The uid is the estimator's: Identifiable.randomUID("als") = "als_" + the last 12 hex digits of
 *   a random UUID.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AlsError } from '../errors.js';
import type { ModelState } from '../core/types.js';
import { readFactorsParquet, writeFactorsParquet, type FactorTable } from './parquet.js';
import { writeBytes } from './files.js';

export const ALS_MODEL_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';
/** The Spark version we write into the metadata: the release line whose layout is described above. */
export const SPARK_VERSION = '3.5.1';

/** The parsed metadata/part-00000 of an ALSModel directory. */
export interface SparkModelMetadata {
  class: string;
  timestamp: number;
  sparkVersion: string;
  uid: string;
  paramMap: Record<string, unknown>;
  defaultParamMap: Record<string, unknown>;
  rank: number;
}

/** The model-level params of a fitted ALSModel we write: our column names, Spark's defaults. */
export function sparkModelMetadata(
  rank: number,
  options: { timestamp?: number; uid?: string } = {},
): SparkModelMetadata {
  return {
    class: ALS_MODEL_CLASS,
    timestamp: options.timestamp ?? Date.now(),
    sparkVersion: SPARK_VERSION,
    uid: options.uid ?? `als_${randomUUID().slice(-12)}`,
    paramMap: { userCol: 'userId', itemCol: 'movieId', coldStartStrategy: 'drop', blockSize: 4096 },
    defaultParamMap: {
      userCol: 'user',
      itemCol: 'item',
      predictionCol: 'prediction',
      coldStartStrategy: 'nan',
      blockSize: 4096,
    },
    rank,
  };
}

/** The metadata line exactly as getMetadataToSave renders it: compact JSON, keys in its order. */
export function renderSparkMetadata(m: SparkModelMetadata): string {
  return JSON.stringify({
    class: m.class,
    timestamp: m.timestamp,
    sparkVersion: m.sparkVersion,
    uid: m.uid,
    paramMap: m.paramMap,
    defaultParamMap: m.defaultParamMap,
    rank: m.rank,
  });
}

/**
 * Folds our biases into two extra factor columns so that a bias-free dot product gives our
 * prediction:  u′_m = [u_m, μ + b_m, 1],  v′_n = [v_n, 1, c_n]  (rank K + 2), hence
 *   u′_m · v′_n = u_m · v_n + μ + b_m + c_n = r̂(m, n).
 * Stored as float32 (Spark's features type): Spark's float32 dot product then matches our
 * float64 prediction to float32 round-off (~1e-6 on a 0.5–5 scale).
 * A bias-only model (K = 0) becomes rank 2.
 */
export function foldBiases(state: ModelState): {
  rank: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
} {
  const K = state.hyper.kind === 'bias' ? 0 : state.hyper.dim;
  const rank = K + 2;
  const userFactors = new Float32Array(state.numUsers * rank);
  for (let m = 0; m < state.numUsers; m++) {
    const o = m * rank;
    for (let k = 0; k < K; k++) userFactors[o + k] = state.userFactors[m * K + k]!;
    userFactors[o + K] = state.globalMean + state.userBias[m]!;
    userFactors[o + K + 1] = 1;
  }
  const itemFactors = new Float32Array(state.numItems * rank);
  for (let n = 0; n < state.numItems; n++) {
    const o = n * rank;
    for (let k = 0; k < K; k++) itemFactors[o + k] = state.itemFactors[n * K + k]!;
    itemFactors[o + K] = 1;
    itemFactors[o + K + 1] = state.itemBias[n]!;
  }
  return { rank, userFactors, itemFactors };
}

/**
 * Recognises factors written by foldBiases: the last user column and the second-to-last item
 * column are exactly 1 in every row (float32 1.0 is exact; a model Spark fitted never has such
 * columns). Returns false for rank < 3 models or when either side is empty.
 */
export function hasFoldedBiases(users: FactorTable, items: FactorTable): boolean {
  const R = users.rank;
  if (R < 3 || users.ids.length === 0 || items.ids.length === 0) return false;
  for (let r = 0; r < users.ids.length; r++) if (users.factors[r * R + R - 1] !== 1) return false;
  for (let r = 0; r < items.ids.length; r++) if (items.factors[r * R + R - 2] !== 1) return false;
  return true;
}

const SUCCESS = '_SUCCESS';

/** Writes an ALSModel directory's contents into `dir` (an empty folder being built). */
export async function writeSparkModelInto(
  dir: string,
  model: { metadata: SparkModelMetadata; users: FactorTable; items: FactorTable },
): Promise<string[]> {
  const files: string[] = [];
  const metadataDir = path.join(dir, 'metadata');
  mkdirSync(metadataDir);
  writeBytes(path.join(metadataDir, 'part-00000'), `${renderSparkMetadata(model.metadata)}\n`);
  writeBytes(path.join(metadataDir, SUCCESS), '');
  files.push('metadata/part-00000');
  for (const [name, table] of [
    ['userFactors', model.users],
    ['itemFactors', model.items],
  ] as const) {
    const sub = path.join(dir, name);
    mkdirSync(sub);
    const part = `part-00000-${randomUUID()}-c000.parquet`;
    await writeFactorsParquet(path.join(sub, part), table);
    writeBytes(path.join(sub, SUCCESS), '');
    files.push(`${name}/${part}`);
  }
  return files;
}

/** Parquet part files of a Spark output folder: Hadoop skips names starting with _ or . */
function partFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('_') && !name.startsWith('.') && name.endsWith('.parquet'))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * Reads an ALSModel directory. One-line refusals: not a directory, no metadata/part-00000, not
 * JSON, another class, no valid rank, missing factor folders, rows whose length is not the rank,
 * non-finite factors, repeated ids.
 */
export async function readSparkModel(
  dir: string,
): Promise<{ metadata: SparkModelMetadata; users: FactorTable; items: FactorTable }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new AlsError(`${dir}: not a Spark ALSModel directory (no such folder)`);
  const metadataFile = path.join(dir, 'metadata', 'part-00000');
  if (!existsSync(metadataFile))
    throw new AlsError(`${dir}: not a Spark ALSModel directory (no metadata/part-00000)`);
  let parsed: Record<string, unknown>;
  try {
    const firstLine = readFileSync(metadataFile, 'utf8').split('\n')[0]!;
    parsed = JSON.parse(firstLine) as Record<string, unknown>;
  } catch {
    throw new AlsError(`${metadataFile}: not a Spark ALSModel directory (metadata is not JSON)`);
  }
  if (parsed.class !== ALS_MODEL_CLASS) {
    throw new AlsError(
      `${dir}: not a Spark ALSModel directory (metadata class is ${JSON.stringify(parsed.class)}, expected ${ALS_MODEL_CLASS})`,
    );
  }
  const rank = parsed.rank;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) {
    throw new AlsError(
      `${metadataFile}: rank must be a positive integer (found ${JSON.stringify(rank)})`,
    );
  }
  const metadata: SparkModelMetadata = {
    class: ALS_MODEL_CLASS,
    timestamp: Number(parsed.timestamp),
    sparkVersion: String(parsed.sparkVersion),
    uid: String(parsed.uid),
    paramMap: (parsed.paramMap ?? {}) as Record<string, unknown>,
    defaultParamMap: (parsed.defaultParamMap ?? {}) as Record<string, unknown>,
    rank,
  };
  const side = async (name: string): Promise<FactorTable> => {
    const sub = path.join(dir, name);
    if (!existsSync(sub) || !statSync(sub).isDirectory())
      throw new AlsError(`${dir}: not a Spark ALSModel directory (no ${name}/ folder)`);
    const files = partFiles(sub);
    if (files.length === 0) throw new AlsError(`${sub}: no Parquet part files`);
    const table = await readFactorsParquet(files, rank, name);
    const seen = new Set<number>();
    for (const id of table.ids) {
      if (seen.has(id)) throw new AlsError(`${sub}: id ${id} appears twice`);
      seen.add(id);
    }
    return table;
  };
  return { metadata, users: await side('userFactors'), items: await side('itemFactors') };
}
