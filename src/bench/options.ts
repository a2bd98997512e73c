/**
 * What every bench script shares: a commander program (so `--help` lists each option with its
 * default, and a bad or unknown option is one line and exit code 1), the number parsers, and the
 * data home taken from `--data-home`, else $ALS_DATA_HOME, else ./data — the environment is read
 * by src/cli/environment.ts, as for the CLI.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readEnvironment } from '../cli/environment.js';
import { dataHome } from '../data/home.js';
import { AlsError } from '../errors.js';

/**
 * A bench's program: name as `node dist/bench/<name>.js`, a one-line summary for `--help`.
 * An AlsError that escapes the script (a missing folder, a bad file) is printed as one line
 * naming the script; anything else is a bug and keeps its stack.
 */
export function benchCommand(name: string, summary: string): Command {
  process.on('uncaughtException', (error: unknown) => {
    if (error instanceof AlsError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
  return new Command(name).description(summary).allowExcessArguments(false);
}

/** A parser of one number: commander prints "argument 'x' is invalid. must be …" on a bad value. */
function numberParser(test: (value: number) => boolean, what: string): (text: string) => number {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !test(value)) throw new InvalidArgumentError(`must be ${what}`);
    return value;
  };
}

export const positiveInteger = numberParser(
  (v) => Number.isInteger(v) && v > 0,
  'a positive whole number',
);
export const nonNegativeInteger = numberParser(
  (v) => Number.isInteger(v) && v >= 0,
  'a whole number ≥ 0',
);
export const positiveNumber = numberParser((v) => Number.isFinite(v) && v > 0, 'a positive number');

/** A comma-separated list, each item parsed by `parse` (e.g. `--threads 1,2`). */
export function listOf<T>(parse: (text: string) => T): (text: string) => T[] {
  return (text: string): T[] => text.split(',').map((item) => parse(item));
}

/** One of a few words (for lists of them; a single choice is commander's `Option.choices`). */
export function oneOf<const T extends string>(choices: readonly T[]): (text: string) => T {
  return (text: string): T => {
    if (!(choices as readonly string[]).includes(text))
      throw new InvalidArgumentError(`${JSON.stringify(text)} is not one of ${choices.join(', ')}`);
    return text as T;
  };
}

/** The data home: `--data-home` when given, else $ALS_DATA_HOME, else `fallback` (./data). */
export function benchDataHome(explicit?: string, fallback = 'data'): string {
  return dataHome(explicit ?? readEnvironment().dataHome ?? fallback);
}

/** `--data-home <dir>`, the same in every bench that reads a set by name; `also` adds a use. */
export function dataHomeOption(also = ''): Option {
  return new Option(
    '--data-home <dir>',
    `data home, where set names resolve${also} (default: $ALS_DATA_HOME, else ./data)`,
  );
}

/** `--data`: a folder name inside the data home when one exists there, else a path. */
export function dataFolder(spec: string, home: string): string {
  const inHome = path.join(home, spec);
  return existsSync(inHome) ? inHome : path.resolve(spec);
}
