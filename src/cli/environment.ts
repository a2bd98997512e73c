/**
 * The environment variables the CLI honours, read here and nowhere else; the values are passed
 * down as plain options (the data and app layers never read process.env).
 *   ALS_DATA_HOME  where data set names resolve (default ./data); --data-home wins
 *   ALS_MIRROR     a URL or folder to download data sets from; --mirror wins
 *   ALS_DEBUG      print the stack of an internal error
 */
export interface Environment {
  dataHome?: string;
  mirror?: string;
  debug: boolean;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const nonEmpty = (value: string | undefined): string | undefined =>
    value === undefined || value === '' ? undefined : value;
  return {
    dataHome: nonEmpty(env.ALS_DATA_HOME),
    mirror: nonEmpty(env.ALS_MIRROR),
    debug: Boolean(env.ALS_DEBUG),
  };
}
