import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { helpOf, OPTIONS, parseOptionValues, type OptionSpec } from '../src/cli/options.js';
import { DEFAULT_HYPERPARAMETERS, DEFAULT_MODEL_KIND } from '../src/core/defaults.js';
import { RUN_DEFAULTS } from '../src/app/defaults.js';
import { DEFAULT_BAYESIAN_OPTIONS } from '../src/app/bayes.js';

// In-process: the option registry and the help commander builds from it (no spawning).
const program = buildProgram();

/** Every (sub)command with its full name, e.g. "plot curves". */
function commands(root: Command, prefix = ''): { name: string; command: Command }[] {
  return root.commands.flatMap((c) => {
    const name = `${prefix}${c.name()}`;
    return [{ name, command: c }, ...commands(c, `${name} `)];
  });
}
const all = commands(program);
const specs = Object.values(OPTIONS) as OptionSpec[];
const normal = (s: string): string => s.replace(/\s+/g, ' ');
const longFlag = (flags: string): string => flags.split(/[ ,]+/).find((p) => p.startsWith('--'))!;

describe('the option registry', () => {
  it('states every default once, in the help of every subcommand taking the option', () => {
    let checked = 0;
    for (const { name, command } of all) {
      const help = normal(command.helpInformation());
      for (const option of command.options) {
        if (option.hidden) continue;
        const spec = specs.find(
          (s) =>
            (s.flags === option.flags && helpOf(s) === option.description) ||
            s.negation?.flags === option.flags,
        );
        // Every visible option of every subcommand comes from the registry.
        expect(spec, `${name} ${option.flags}`).toBeDefined();
        if (spec!.negation?.flags === option.flags) continue;
        const description = option.description;
        expect(description).toBe(helpOf(spec!));
        const defaults = description.match(/\(default: /g) ?? [];
        const declared =
          spec!.defaultText ?? (spec!.default !== undefined ? String(spec!.default) : undefined);
        expect(defaults.length, `${name} ${option.flags}`).toBe(declared === undefined ? 0 : 1);
        if (declared !== undefined)
          expect(description.endsWith(`(default: ${declared})`)).toBe(true);
        // What commander prints is the declaration (wrapped): same words in the same order.
        expect(help).toContain(
          normal(`${option.flags} ${description}`).split(' (default:')[0]!.slice(0, 40),
        );
        expect(help).toContain(
          normal(`(default: ${declared ?? ''}`).slice(0, declared === undefined ? 0 : 30),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('gives each flag one meaning: options sharing a flag in different commands share a declaration or a value form', () => {
    const byFlag = new Map<string, { name: string; spec: OptionSpec }[]>();
    for (const { name, command } of all) {
      for (const option of command.options) {
        const spec = specs.find(
          (s) => s.flags === option.flags && helpOf(s) === option.description,
        );
        if (!spec) continue;
        const list = byFlag.get(longFlag(option.flags)) ?? [];
        list.push({ name, spec });
        byFlag.set(longFlag(option.flags), list);
      }
    }
    // --model is only ever a hidden old spelling; --kind is the model kind, --checkpoint the file.
    for (const { command } of all) {
      const model = command.options.find((o) => o.long === '--model');
      if (model) expect(model.hidden).toBe(true);
    }
    const trainOptions = all.find((c) => c.name === 'train')!.command.options;
    expect(trainOptions.find((o) => o.long === '--kind')).toBeDefined();
    for (const name of ['eval', 'report', 'recommend', 'similar']) {
      expect(
        all.find((c) => c.name === name)!.command.options.find((o) => o.long === '--checkpoint'),
        name,
      ).toBeDefined();
    }
    // --data, --max-users, --movie-id, --top are the same declaration wherever they appear.
    for (const flag of [
      '--data',
      '--data-home',
      '--max-users',
      '--movie-id',
      '--top',
      '--threads',
      '--json',
    ]) {
      const uses = byFlag.get(flag)!;
      expect(uses.length, flag).toBeGreaterThan(0);
      expect(new Set(uses.map((u) => u.spec)).size, flag).toBe(1);
    }
  });

  it('takes its defaults from the one place they are declared', () => {
    expect(DEFAULT_HYPERPARAMETERS.kind).toBe(DEFAULT_MODEL_KIND);
    expect(helpOf(OPTIONS.kind)).toContain(`(default: ${DEFAULT_MODEL_KIND})`);
    expect(helpOf(OPTIONS.dim)).toContain(
      `(default: ${DEFAULT_HYPERPARAMETERS.dim}; --method gibbs ${DEFAULT_BAYESIAN_OPTIONS.dim}; bias model 0)`,
    );
    expect(helpOf(OPTIONS.method)).toContain('(default: als)');
    expect(helpOf(OPTIONS.samples)).toContain(`(default: ${DEFAULT_BAYESIAN_OPTIONS.samples})`);
    expect(helpOf(OPTIONS.burnIn)).toContain(
      `(default: ${DEFAULT_BAYESIAN_OPTIONS.burnIn}; with --resume the checkpoint's)`,
    );
    expect(helpOf(OPTIONS.thin)).toContain(
      `(default: ${DEFAULT_BAYESIAN_OPTIONS.thin}; with --resume the checkpoint's)`,
    );
    expect(helpOf(OPTIONS.epochs)).toContain(`(default: ${RUN_DEFAULTS.epochs})`);
    expect(helpOf(OPTIONS.maxUsers)).toContain(`(default: ${RUN_DEFAULTS.maxRankingUsers})`);
    expect(helpOf(OPTIONS.minRatings)).toContain(`(default: ${RUN_DEFAULTS.minRatings})`);
    expect(parseOptionValues(['top', 'k', 'maxUsers', 'epochs'], {})).toEqual({
      top: RUN_DEFAULTS.top,
      k: RUN_DEFAULTS.k,
      maxUsers: RUN_DEFAULTS.maxRankingUsers,
      epochs: RUN_DEFAULTS.epochs,
    });
  });

  it('accepts the old spellings as hidden aliases and names the flag the user typed', async () => {
    const seen: Record<string, unknown>[] = [];
    const { addOptions, readOptions } = await import('../src/cli/options.js');
    const make = (key: 'kind' | 'checkpoint') => {
      const root = new Command('t').exitOverride();
      const sub = root.command('x');
      addOptions(sub, [key]).action((_o: unknown, cmd: Command) => {
        seen.push(readOptions(cmd, [key]));
      });
      return root;
    };
    await make('kind').parseAsync(['x', '--model', 'latent'], { from: 'user' });
    expect(seen.at(-1)).toEqual({ kind: 'latent' });
    await make('checkpoint').parseAsync(['x', '--model', 'a.als'], { from: 'user' });
    expect(seen.at(-1)).toEqual({ checkpoint: 'a.als' });
    await expect(
      make('kind').parseAsync(['x', '--model', 'deep'], { from: 'user' }),
    ).rejects.toThrow(/^--model: must be one of bias, latent, genre/);
    await expect(
      make('kind').parseAsync(['x', '--kind', 'deep'], { from: 'user' }),
    ).rejects.toThrow(/^--kind: must be one of/);
    await expect(
      make('checkpoint').parseAsync(['x', '--model', 'a.als', '--checkpoint', 'b.als'], {
        from: 'user',
      }),
    ).rejects.toThrow(/^--model: the same as --checkpoint; give one of them/);
  });
});
