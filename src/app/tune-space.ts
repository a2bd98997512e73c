/**
 * Search spaces for `als tune`: which hyperparameters vary and over what, and the configurations
 * a strategy draws from them.
 *
 * On the command line each `--space` gives one dimension:
 *   dim=10,30,50          a list (grid takes every value; random draws one uniformly)
 *   gamma=1..10           a range: uniform in [1, 10]
 *   tau=0.03..0.3:log     log-uniform: ln x uniform in [ln 0.03, ln 0.3] (both ends > 0)
 *   dim=10..100           an integer hyperparameter's range draws integers (uniform over 10 … 100;
 *                         with :log, round(exp(u)) for u uniform in [ln 9.5, ln 100.5))
 *   model=latent,genre    a categorical list; weighted=true,false a boolean one
 * A space file is JSON with the same dimensions, `{"dim": [10, 30, 50], "tau": "0.03..0.3:log",
 * "gamma": {"low": 1, "high": 10}}`, validated with zod.
 * Grid: the Cartesian product of the lists, a range contributing `gridPoints` evenly spaced points
 * (log-spaced with :log; integers rounded and deduplicated). Random: `count` independent draws,
 * seeded, each dimension drawn independently; duplicates of an earlier draw are redrawn (a space
 * with fewer distinct configurations than `count` gives them all).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Random } from '../core/random.js';
import type { Hyperparameters, ModelKind } from '../core/types.js';
import { AlsError, UsageError } from '../errors.js';

type Domain =
  | { type: 'integer'; min: number }
  | { type: 'float'; min: number; exclusiveMin: boolean }
  | { type: 'choice'; values: readonly (string | boolean)[] };

/** The hyperparameters a space may vary, with their domains; names as `als train` spells them. */
export const TUNABLE: Readonly<Record<string, { field: keyof Hyperparameters; domain: Domain }>> = {
  dim: { field: 'dim', domain: { type: 'integer', min: 1 } },
  lambda: { field: 'lambda', domain: { type: 'float', min: 0, exclusiveMin: true } },
  tau: { field: 'tau', domain: { type: 'float', min: 0, exclusiveMin: false } },
  gamma: { field: 'gamma', domain: { type: 'float', min: 0, exclusiveMin: false } },
  'genre-tau': { field: 'genreTau', domain: { type: 'float', min: 0, exclusiveMin: false } },
  model: { field: 'kind', domain: { type: 'choice', values: ['bias', 'latent', 'genre'] } },
  weighted: { field: 'weightedRegularization', domain: { type: 'choice', values: [true, false] } },
  'weighted-bias': {
    field: 'weightedBiasRegularization',
    domain: { type: 'choice', values: [true, false] },
  },
  'weight-exponent': {
    field: 'weightExponent',
    domain: { type: 'float', min: 0, exclusiveMin: false },
  },
};

/** Other spellings accepted for a name (the write-up's symbols). */
const ALIASES: Readonly<Record<string, string>> = {
  tau_g: 'genre-tau',
  taug: 'genre-tau',
  genreTau: 'genre-tau',
  kind: 'model',
  k: 'dim',
};

export type Value = number | string | boolean;

export type Dimension =
  | { name: string; type: 'list'; values: Value[] }
  | { name: string; type: 'range'; low: number; high: number; log: boolean; integer: boolean };

export interface SearchSpace {
  dimensions: Dimension[];
}

/** One point of a space: tunable name → value. */
export type Configuration = Record<string, Value>;

function canonicalName(raw: string, where: string): string {
  const name = ALIASES[raw] ?? raw;
  if (!(name in TUNABLE))
    throw new UsageError(
      `${where}: unknown hyperparameter "${raw}" (tunable: ${Object.keys(TUNABLE).join(', ')})`,
    );
  return name;
}

function checkNumber(name: string, x: number, where: string): void {
  const domain = TUNABLE[name]!.domain;
  if (domain.type === 'choice') return;
  if (!Number.isFinite(x))
    throw new UsageError(`${where}: ${name} value ${x} is not a finite number`);
  if (domain.type === 'integer' && !Number.isInteger(x))
    throw new UsageError(`${where}: ${name} must be an integer, got ${x}`);
  if (x < domain.min || (domain.type === 'float' && domain.exclusiveMin && x === domain.min)) {
    throw new UsageError(
      `${where}: ${name} must be ${domain.type === 'float' && domain.exclusiveMin ? '>' : '≥'} ${domain.min}, got ${x}`,
    );
  }
}

function parseListValue(name: string, text: string, where: string): Value {
  const domain = TUNABLE[name]!.domain;
  const t = text.trim();
  if (t === '') throw new UsageError(`${where}: ${name} has an empty value in its list`);
  if (domain.type === 'choice') {
    const match = domain.values.find((v) => String(v) === t);
    if (match === undefined)
      throw new UsageError(
        `${where}: ${name} must be one of ${domain.values.join(', ')}, got "${t}"`,
      );
    return match;
  }
  const x = Number(t);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t))
    throw new UsageError(`${where}: ${name} value "${t}" is not a number`);
  checkNumber(name, x, where);
  return x;
}

function makeRange(
  name: string,
  low: number,
  high: number,
  log: boolean,
  where: string,
): Dimension {
  const domain = TUNABLE[name]!.domain;
  if (domain.type === 'choice')
    throw new UsageError(
      `${where}: ${name} takes a list of values (${domain.values.join(', ')}), not a range`,
    );
  checkNumber(name, low, where);
  // An integer range's ends must be integers; the domain check of `high` is the same as `low`'s.
  checkNumber(name, high, where);
  if (low > high) throw new UsageError(`${where}: ${name} range ${low}..${high} has low > high`);
  if (log && low <= 0)
    throw new UsageError(`${where}: ${name} log range needs low > 0, got ${low}`);
  return { name, type: 'range', low, high, log, integer: domain.type === 'integer' };
}

const RANGE = /^([^.]+|\d*\.\d+)\.\.(.+?)(?::(log))?$/;

/** Parses one `--space` value, e.g. "tau=0.03..0.3:log"; errors are one line naming `where`. */
export function parseDimension(text: string, where = '--space'): Dimension {
  const here = `${where} '${text}'`;
  const eq = text.indexOf('=');
  if (eq < 0)
    throw new UsageError(`${here}: expected name=values, e.g. dim=10,30,50 or tau=0.03..0.3:log`);
  const name = canonicalName(text.slice(0, eq).trim(), here);
  const body = text.slice(eq + 1).trim();
  if (body === '') throw new UsageError(`${here}: ${name} has no values`);
  const range = body.includes('..') ? RANGE.exec(body) : null;
  if (range !== null) {
    const [lowText, highText] = [range[1]!, range[2]!];
    const low = Number(lowText);
    const high = Number(highText);
    if (lowText.trim() === '' || highText.trim() === '' || Number.isNaN(low) || Number.isNaN(high))
      throw new UsageError(`${here}: ${name} range must be low..high with numbers`);
    return makeRange(name, low, high, range[3] === 'log', here);
  }
  if (body.includes('..'))
    throw new UsageError(`${here}: ${name} range must be low..high or low..high:log`);
  const values = body.split(',').map((v) => parseListValue(name, v, here));
  const distinct = [...new Set(values)];
  if (distinct.length !== values.length)
    throw new UsageError(`${here}: ${name} lists a value twice`);
  return { name, type: 'list', values };
}

const fileDimension = z.union([
  z.array(z.union([z.number(), z.string(), z.boolean()])).min(1),
  z.string(),
  z.strictObject({ low: z.number(), high: z.number(), log: z.boolean().optional() }),
]);
const fileSchema = z.record(z.string(), fileDimension);

/** Reads a space file (JSON object: name → list, "low..high[:log]" string, or {low, high, log}). */
export function readSpaceFile(file: string, text = readFileSync(file, 'utf8')): Dimension[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AlsError(`${file}: not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AlsError(
      `${file}: ${issue.path.length ? `"${issue.path.join('.')}": ` : ''}${issue.message}`,
    );
  }
  return Object.entries(parsed.data).map(([rawName, spec]) => {
    const where = `${file}: "${rawName}"`;
    if (typeof spec === 'string') return parseDimension(`${rawName}=${spec}`, file);
    if (Array.isArray(spec)) {
      const name = canonicalName(rawName, where);
      return parseDimension(`${name}=${spec.map(String).join(',')}`, file);
    }
    return makeRange(canonicalName(rawName, where), spec.low, spec.high, spec.log ?? false, where);
  });
}

/** Joins the dimensions of `--space` options and a file into one space; a name given twice is an error. */
export function buildSpace(dimensions: Dimension[], where = '--space'): SearchSpace {
  if (dimensions.length === 0)
    throw new UsageError(`${where}: the search space is empty (give e.g. --space dim=10,30,50)`);
  const seen = new Set<string>();
  for (const d of dimensions) {
    if (seen.has(d.name)) throw new UsageError(`${where}: ${d.name} is given twice`);
    seen.add(d.name);
  }
  const model = dimensions.find((d) => d.name === 'model');
  if (model?.type === 'list' && model.values.every((v) => v === 'bias')) {
    const factorOnly = dimensions.find(
      (d) => d.name === 'dim' || d.name === 'tau' || d.name === 'genre-tau',
    );
    if (factorOnly)
      throw new UsageError(
        `${where}: ${factorOnly.name} has no effect on the bias model, the only model in the space`,
      );
  }
  if (dimensions.every((d) => d.type === 'list' && d.values.length === 1)) {
    throw new UsageError(
      `${where}: every dimension has a single value, so there is nothing to choose between`,
    );
  }
  return { dimensions };
}

/** A range's grid points: evenly (or log-evenly) spaced, integers rounded and deduplicated. */
function gridValues(d: Dimension, points: number): Value[] {
  if (d.type === 'list') return d.values;
  if (d.low === d.high || points === 1) return [d.integer ? Math.round(d.low) : d.low];
  const values: number[] = [];
  for (let j = 0; j < points; j++) {
    const t = j / (points - 1);
    let x = d.log
      ? Math.exp(Math.log(d.low) + t * (Math.log(d.high) - Math.log(d.low)))
      : d.low + t * (d.high - d.low);
    x = d.integer ? Math.round(x) : Number(x.toPrecision(6));
    if (!values.includes(x)) values.push(x);
  }
  return values;
}

/** Every configuration of the grid, the last dimension varying fastest. */
export function gridConfigurations(space: SearchSpace, gridPoints = 5): Configuration[] {
  let configs: Configuration[] = [{}];
  for (const d of space.dimensions) {
    const values = gridValues(d, gridPoints);
    configs = configs.flatMap((c) => values.map((v) => ({ ...c, [d.name]: v })));
  }
  return configs;
}

function drawValue(d: Dimension, rng: Random): Value {
  if (d.type === 'list') return d.values[rng.nextInt(d.values.length)]!;
  const u = rng.nextFloat();
  if (d.integer) {
    // Half-integer padding gives each integer of [low, high] its share of the (log-)interval.
    const lo = d.low - 0.5;
    const hi = d.high + 0.5;
    const x = d.log
      ? Math.exp(Math.log(Math.max(lo, 1e-9)) + u * (Math.log(hi) - Math.log(Math.max(lo, 1e-9))))
      : lo + u * (hi - lo);
    return Math.min(d.high, Math.max(d.low, Math.round(x)));
  }
  const x = d.log
    ? Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low)))
    : d.low + u * (d.high - d.low);
  return Number(x.toPrecision(6));
}

/** `count` seeded random configurations, without repeats where the space allows. */
export function randomConfigurations(
  space: SearchSpace,
  count: number,
  seed: number,
): Configuration[] {
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError(`--trials must be a positive integer, got ${count}`);
  const rng = new Random(seed);
  const seen = new Set<string>();
  const configs: Configuration[] = [];
  for (let attempts = 0; configs.length < count && attempts < count * 50; attempts++) {
    const c: Configuration = {};
    for (const d of space.dimensions) c[d.name] = drawValue(d, rng);
    const key = JSON.stringify(c);
    if (seen.has(key)) continue;
    seen.add(key);
    configs.push(c);
  }
  return configs;
}

/** The hyperparameters of a configuration: `base` with the configuration's values set. */
export function applyConfiguration(base: Hyperparameters, config: Configuration): Hyperparameters {
  const hyper: Hyperparameters = { ...base };
  for (const [name, value] of Object.entries(config)) {
    const field = TUNABLE[name]!.field;
    (hyper as unknown as Record<string, Value>)[field] = value;
  }
  if (hyper.kind === 'bias') hyper.dim = 0;
  return hyper;
}

/** The `als train` options that set a configuration, e.g. "--dim 50 --tau 0.1". */
export function configurationFlags(config: Configuration): string {
  return Object.entries(config)
    .map(([name, value]) => {
      if (name === 'weighted') return value ? '--weighted' : '--no-weighted';
      if (name === 'weighted-bias') return value ? '--weighted-bias' : '--no-weighted-bias';
      return `--${name} ${String(value)}`;
    })
    .join(' ');
}

export type { ModelKind };
