/**
 * The PySpark program `als spark-job` writes: read the Parquet ratings `als export --format
 * parquet` wrote, fit pyspark.ml.recommendation.ALS with hyperparameters mapped from ours,
 * report the held-out RMSE on the same split, and save the model for `als import`.
 *
 * Mapping. Our latent loss (types.ts) with ALS-WR is
 *   L = (λ/2) Σ (r − μ − b_m − c_n − u_m·v_n)² + (τ/2) (Σ s_m ‖u_m‖² + Σ s_n ‖v_n‖²) + (γ/2)(Σ b² + Σ c²);
 * Spark's explicit ALS solves, per row, (YᵀY + regParam · n_explicit · I) x = Yᵀr (ALS.scala,
 * computeFactors: `solver.solve(ls, numExplicits * regParam)`, "Weight lambda by the number of
 * explicit ratings based on the ALS-WR paper"), i.e. it minimises
 *   Σ (r − u_m·v_n)² + regParam (Σ s_m ‖u_m‖² + Σ s_n ‖v_n‖²).
 * Dividing ours by λ/2: regParam = τ/λ, rank = dim, maxIter = epochs.
 * What does not map: Spark has no biases (μ, b, c) and no genre prior; without ALS-WR our plain
 * ridge τ has no Spark counterpart (Spark always count-scales).
 */

export interface SparkJobParams {
  rank: number;
  maxIter: number;
  regParam: number;
  seed: number;
  /** Parquet written by `als export --format parquet --split ...`: train and test files. */
  trainPath: string;
  testPath: string;
  /** Where the fitted model is saved (the directory `als import --format spark` reads). */
  modelPath: string;
  /** Human description of the split, for the printed lines. */
  splitSpec: string;
}

const py = (s: string): string => JSON.stringify(s); // a JSON string is a valid Python string literal

/** The program's text: short, commented, no dependency beyond pyspark. */
export function sparkJobSource(p: SparkJobParams): string {
  return `"""Train Spark MLlib's ALS on ratings exported by \`als export --format parquet\`.

Written by \`als spark-job\`. Run it with
    spark-submit ${'<this file>'}
then bring the model back with
    als import --format spark ${p.modelPath} --data <data set> --split ${p.splitSpec} --seed ${p.seed}

Hyperparameters mapped from als: rank = dim, maxIter = epochs, regParam = tau / lambda.
Spark scales regParam by each user's and movie's rating count (ALS-WR), as als does by default.
Not carried over: Spark's model has no biases (global mean, user and movie biases) and no
genre prior, so its RMSE is not the RMSE of the als model with the same settings.
"""
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession

TRAIN = ${py(p.trainPath)}
TEST = ${py(p.testPath)}
MODEL_OUT = ${py(p.modelPath)}

spark = SparkSession.builder.appName("als-spark-job").getOrCreate()
# Many iterations build a long lineage; checkpointing (every checkpointInterval = 10 iterations) cuts it.
spark.sparkContext.setCheckpointDir(MODEL_OUT + "-checkpoints")

# Columns: userId int, movieId int, rating float, timestamp long (the split ${p.splitSpec}, seed ${p.seed}).
train = spark.read.parquet(TRAIN)
test = spark.read.parquet(TEST)

als = ALS(
    rank=${p.rank},
    maxIter=${p.maxIter},
    regParam=${p.regParam},
    userCol="userId",
    itemCol="movieId",
    ratingCol="rating",
    coldStartStrategy="drop",  # held-out users/movies unseen in training get no prediction
    seed=${p.seed},
)
model = als.fit(train)

predictions = model.transform(test)
rmse = RegressionEvaluator(metricName="rmse", labelCol="rating", predictionCol="prediction").evaluate(predictions)
print(f"held-out RMSE {rmse:.4f} on {predictions.count()} of {test.count()} ratings (the others are cold-start)")

model.write().overwrite().save(MODEL_OUT)
print(f"saved the model to {MODEL_OUT}")
spark.stop()
`;
}
