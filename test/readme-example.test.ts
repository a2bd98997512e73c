import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Recommender } from '../src/index.js';
import { movielensDir } from './helpers/movielens.js';

// The README's library example, taken from the README itself: type-checked with tsc, then run.
// Only the package name, the data set and the output files are pointed at this checkout and a
// temporary folder; console.log is collected instead of printed.
const dir = path.resolve('test/.readme');
const out = mkdtempSync(path.join(tmpdir(), 'als-readme-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

function example(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Using it as a library'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README: no ```ts block under "Using it as a library"');
  return block[1]!;
}

describe('the README library example', () => {
  it('type-checks and runs: fold-in, similar movies, predict, save/load, a training run with callbacks', async () => {
    const code = example();
    expect(code).toContain("from 'als'");
    // The package's entry point as published: dist/ (built before the suite) and its declarations.
    const index = path.resolve('dist/index.js');
    const source =
      'const logged: unknown[] = [];\nconst console = { log: (...values: unknown[]) => logged.push(values.length === 1 ? values[0] : values) };\nexport { logged };\n' +
      code
        .replace("from 'als'", `from ${JSON.stringify(index)}`)
        .replace(
          "{ data: 'ml-latest-small' }",
          `{ data: ${JSON.stringify(movielensDir('ml-latest-small'))}, dataHome: ${JSON.stringify(out)} }`,
        )
        .replaceAll("'genre.als'", JSON.stringify(path.join(out, 'genre.als')))
        .replace("out: 'latent.als'", `out: ${JSON.stringify(path.join(out, 'latent.als'))}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'example.ts');
    writeFileSync(file, source);
    const typeCheck = (): string => {
      try {
        return execFileSync(process.execPath, tscArgs, { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    };
    const tscArgs = [
      path.resolve('node_modules/typescript/bin/tsc'),
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--lib',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--types',
      'node',
      file,
    ];
    expect(typeCheck()).toBe('');
    const { logged } = (await import(file)) as { logged: unknown[] };
    const liked = logged[0] as string[];
    expect(liked).toHaveLength(5);
    expect(liked.some((t) => t.startsWith('Toy Story ('))).toBe(false);
    // The saved model answers like the fitted one, and the lists are of its kind: mostly animation.
    const saved = Recommender.load(path.join(out, 'genre.als'));
    const genresOf = (title: string) =>
      saved.checkpoint.catalog.genreNames.filter((_, g) => {
        const item = saved.checkpoint.catalog.titles.findIndex(
          (t) => title.startsWith(`${t} (`) || t === title,
        );
        for (
          let k = saved.checkpoint.catalog.genreOffsets[item]!;
          k < saved.checkpoint.catalog.genreOffsets[item + 1]!;
          k++
        ) {
          if (saved.checkpoint.catalog.genreIds[k] === g) return true;
        }
        return false;
      });
    const animated = liked.filter((t) =>
      genresOf(t).some((g) => g === 'Animation' || g === 'Children'),
    );
    expect(animated.length).toBeGreaterThanOrEqual(3);
    expect(logged[1] as string[]).toHaveLength(5);
    expect(typeof logged[2]).toBe('number');
    expect(saved.predict(1, 1)).toBe(logged[2]);
    const epochLines = logged.filter(
      (l) => typeof l === 'string' && l.startsWith('epoch '),
    ) as string[];
    expect(epochLines.length).toBeGreaterThan(3);
    const [stopReason, bestEpoch, kind] = logged.at(-1) as [string, number, string];
    expect(['completed', 'early-stop']).toContain(stopReason);
    expect(bestEpoch).toBeGreaterThan(0);
    expect(kind).toBe('genre');
    expect(existsSync(path.join(out, 'latent.als.metrics.csv'))).toBe(true);
  });
});
