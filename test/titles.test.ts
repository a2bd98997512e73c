import { beforeAll, describe, expect, it } from 'vitest';
import { AlsError } from '../src/errors.js';
import { loadDataset } from '../src/data/load.js';
import type { Catalog, Dataset } from '../src/data/types.js';
import {
  buildTitleIndex,
  displayTitle,
  normaliseTitle,
  resolveMovieId,
  resolveTitle,
  titleVariants,
  type TitleIndex,
} from '../src/data/titles.js';
import { movielensDir } from './helpers/movielens.js';

/** A catalog from (title, year, ratings) triples; no genres. */
function catalogOf(entries: [string, number, number][]): { catalog: Catalog; counts: Int32Array } {
  return {
    catalog: {
      titles: entries.map((e) => e[0]),
      years: Int32Array.from(entries, (e) => e[1]),
      genreNames: [],
      genreOffsets: new Int32Array(entries.length + 1),
      genreIds: new Int32Array(0),
    },
    counts: Int32Array.from(entries, (e) => e[2]),
  };
}

function errorOf(fn: () => unknown): AlsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AlsError);
    expect((error as Error).message).not.toContain('\n');
    return error as AlsError;
  }
  throw new Error('expected an error');
}

describe('title normalisation', () => {
  it('ignores case, accents, punctuation and apostrophes', () => {
    expect(normaliseTitle("  Schindler's  LIST! ")).toBe('schindlers list');
    expect(normaliseTitle('Misérables')).toBe('miserables');
    expect(normaliseTitle('Monsters, Inc.')).toBe('monsters inc');
    expect(normaliseTitle('Tom & Jerry')).toBe('tom and jerry');
  });
  it('reads trailing articles and alternative titles', () => {
    expect(titleVariants('Incredibles, The')).toEqual([
      'incredibles the',
      'the incredibles',
      'incredibles',
    ]);
    expect(titleVariants("Avventura, L'")).toContain('lavventura');
    expect(titleVariants('Seven (a.k.a. Se7en)')).toEqual(['seven', 'se7en']);
    expect(titleVariants('City of Lost Children, The (Cité des enfants perdus, La)')).toEqual(
      expect.arrayContaining([
        'the city of lost children',
        'la cite des enfants perdus',
        'cite des enfants perdus',
      ]),
    );
  });
});

describe('title resolution on a small synthetic catalog', () => {
  const { catalog, counts } = catalogOf([
    ['Toy Story', 1995, 200], // 0
    ['Toy Story 2', 1999, 90], // 1
    ['Incredibles, The', 2004, 120], // 2
    ['Saw', 2003, 2], // 3: the short
    ['Saw', 2004, 60], // 4
    ['Saw II', 2005, 30], // 5
    ['Seven (a.k.a. Se7en)', 1995, 150], // 6
    ["Avventura, L'", 1960, 5], // 7
    ['Misérables, Les', 1995, 8], // 8
    ['Spider-Man', 2002, 120], // 9
    ['Star Wars: Episode IV - A New Hope', 1977, 250], // 10
    ['Star Wars: Episode V - The Empire Strikes Back', 1980, 210], // 11
    ['Das Boot', 1981, 40], // 12
  ]);
  let index: TitleIndex;
  beforeAll(() => {
    index = buildTitleIndex(catalog, counts);
  });

  it('finds exact titles whatever the case, punctuation and article position', () => {
    expect(resolveTitle(index, 'toy story').item).toBe(0);
    expect(resolveTitle(index, 'TOY STORY!').how).toBe('exact');
    for (const q of [
      'The Incredibles',
      'incredibles',
      'Incredibles, The',
      'the incredibles (2004)',
    ]) {
      expect(resolveTitle(index, q).item).toBe(2);
    }
    expect(resolveTitle(index, "L'Avventura").item).toBe(7);
    expect(resolveTitle(index, 'Les Miserables').item).toBe(8);
    expect(resolveTitle(index, 'Se7en').item).toBe(6);
    expect(resolveTitle(index, 'Spiderman').item).toBe(9);
    expect(resolveTitle(index, 'spider man').item).toBe(9);
    expect(resolveTitle(index, 'das boot').item).toBe(12);
  });

  it('prefers an exact title over a partial one, and the most rated among equals', () => {
    const saw = resolveTitle(index, 'Saw');
    expect(saw.item).toBe(4);
    expect(saw.alsoMatched).toEqual([3]);
    expect(resolveTitle(index, 'Toy Story').alsoMatched).toEqual([]);
  });

  it('uses a year in parentheses to choose', () => {
    expect(resolveTitle(index, 'Saw (2003)').item).toBe(3);
    expect(resolveTitle(index, 'Saw (2004)').item).toBe(4);
    expect(errorOf(() => resolveTitle(index, 'Toy Story (1990)')).message).toMatch(
      /no movie titled "Toy Story" from 1990; closest: Toy Story \(1995\)/,
    );
  });

  it('takes a single partial match and lists several', () => {
    const match = resolveTitle(index, 'empire strikes back');
    expect(match.item).toBe(11);
    expect(match.how).toBe('partial');
    const message = errorOf(() => resolveTitle(index, 'star wars')).message;
    expect(message).toMatch(/ambiguous/);
    // Most rated first.
    expect(message.indexOf('Episode IV')).toBeLessThan(message.indexOf('Episode V -'));
  });

  it('suggests the closest titles when nothing matches', () => {
    const message = errorOf(() => resolveTitle(index, 'Toy Stroy')).message;
    expect(message).toMatch(/^no movie titled "Toy Stroy"; closest: Toy Story \(1995\)/);
    expect(errorOf(() => resolveTitle(index, 'Incredibels')).message).toContain(
      'Incredibles, The (2004)',
    );
    expect(errorOf(() => resolveTitle(index, '!!!')).message).toMatch(/no letters or digits/);
  });

  it('resolves original movie ids', () => {
    const ids = Int32Array.from({ length: 13 }, (_, k) => 100 + k);
    expect(resolveMovieId(index, ids, 104).item).toBe(4);
    expect(errorOf(() => resolveMovieId(index, ids, 7)).message).toMatch(/no movie with id 7/);
  });
});

describe('title resolution on the ml-latest-small catalog', () => {
  let dataset: Dataset;
  let index: TitleIndex;
  const title = (item: number): string => displayTitle(dataset.catalog, item);
  const idOf = (query: string): number => dataset.itemIds[resolveTitle(index, query).item]!;

  beforeAll(async () => {
    dataset = await loadDataset(movielensDir('ml-latest-small'));
    const counts = new Int32Array(dataset.matrix.numItems);
    const offsets = dataset.matrix.ratingsByItem.offsets;
    for (let i = 0; i < counts.length; i++) counts[i] = offsets[i + 1]! - offsets[i]!;
    index = buildTitleIndex(dataset.catalog, counts);
  });

  it('finds Toy Story, The Incredibles and Toy Story 2', () => {
    expect(idOf('Toy Story')).toBe(1);
    expect(idOf('toy story (1995)')).toBe(1);
    expect(title(resolveTitle(index, 'The Incredibles').item)).toBe('Incredibles, The (2004)');
    expect(title(resolveTitle(index, 'toy story 2').item)).toBe('Toy Story 2 (1999)');
    expect(title(resolveTitle(index, 'Amelie').item)).toMatch(/^Amelie \(Fabuleux destin/);
  });

  it('"Saw" is the 2004 film, not the 2003 short; the year picks the short', () => {
    const match = resolveTitle(index, 'Saw');
    expect(title(match.item)).toBe('Saw (2004)');
    expect(match.alsoMatched.map(title)).toEqual(['Saw (2003)']);
    expect(title(resolveTitle(index, 'Saw (2003)').item)).toBe('Saw (2003)');
  });

  it('disambiguates by year', () => {
    expect(title(resolveTitle(index, 'The Ring').item)).toBe('Ring, The (2002)');
    expect(title(resolveTitle(index, 'The Ring (1927)').item)).toBe('Ring, The (1927)');
  });

  it('suggests and lists candidates', () => {
    expect(errorOf(() => resolveTitle(index, 'Toy Stroy')).message).toContain('Toy Story (1995)');
    expect(errorOf(() => resolveTitle(index, 'The Incredibels')).message).toMatch(
      /closest: Incredibles, The \(2004\)/,
    );
    const ambiguous = errorOf(() => resolveTitle(index, 'star wars')).message;
    expect(ambiguous).toMatch(/ambiguous: Star Wars: Episode IV - A New Hope \(1977\)/);
  });
});
