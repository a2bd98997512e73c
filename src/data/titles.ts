/**
 * Title resolution: turns what a person types ("the incredibles", "Toy Story (1995)", "Saw")
 * into one movie of a catalog, or a one-line error with suggestions.
 *
 * Rules, in order:
 * 1. Normalisation: case, accents, punctuation and spacing are ignored; apostrophes are dropped
 *    ("Schindler's" = "Schindlers"); "&" reads as "and". A trailing "(1995)" in the query is a year
 *    filter, otherwise the year is ignored.
 * 2. MovieLens writes leading articles at the end ("Incredibles, The", "Misérables, Les",
 *    "Avventura, L'"); both "The Incredibles" and "Incredibles" match such a title, and so does
 *    the alternative title in parentheses ("Seven (a.k.a. Se7en)" answers to "Se7en").
 * 3. An exact match (the whole normalised title, spaces ignored so "Spiderman" = "Spider-Man")
 *    beats a partial one (the query is a run of whole words inside the title). Among exact
 *    matches the most-rated wins ("Saw" → "Saw (2004)", not the 2003 short); several partial
 *    matches are ambiguous and listed, one partial match is taken.
 * 4. No match: the closest titles by edit distance and shared words are suggested.
 *
 * Keys are normalised once per catalog (buildTitleIndex); a lookup is then one hash probe plus,
 * for partial matches, one substring scan over the precomputed keys.
 */
import { AlsError } from '../errors.js';
import type { Catalog } from './types.js';

/** Articles MovieLens moves to the end of a title (", The"). Lower case; "l'" attaches without a space. */
const TRAILING_ARTICLES = new Set([
  'the',
  'a',
  'an',
  'le',
  'la',
  'les',
  "l'",
  'il',
  'el',
  'lo',
  'los',
  'las',
  'das',
  'der',
  'die',
  'den',
  'det',
  'de',
  'het',
  'een',
  'ein',
  'eine',
  'une',
  'un',
  'gli',
  'i',
  'o',
  'os',
  'as',
  'ta',
]);

const NON_ASCII = /[^\u0000-\u007f]/;

/** Lower case, accents and punctuation removed, words separated by single spaces. */
export function normaliseTitle(text: string): string {
  // Most titles are plain ASCII: skip the Unicode decomposition for them (87K titles at start-up).
  let t = NON_ASCII.test(text) ? text.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : text;
  t = t.toLowerCase();
  if (t.includes('&')) t = t.replace(/&/g, ' and ');
  return t
    .replace(/['’`´]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * The readings of one title segment: itself, and when it ends in ", <article>" also the
 * article-first form ("The Incredibles") and the bare form ("Incredibles").
 */
function segmentVariants(segment: string): string[] {
  const text = segment.trim().replace(/^a\.?k\.?a\.?\s+/i, '');
  const variants = [text];
  const m = text.includes(',') ? /^(.*\S),\s*([^\s,]+)$/u.exec(text) : null;
  if (m) {
    const article = m[2]!.toLowerCase();
    if (TRAILING_ARTICLES.has(article)) {
      const rest = m[1]!;
      variants.push(article.endsWith("'") ? `${m[2]}${rest}` : `${m[2]} ${rest}`, rest);
    }
  }
  return variants;
}

/**
 * Splits "Main Title, The (Alternative, La) (a.k.a. Other)" into its main title and the
 * alternative titles in trailing parentheses; then every reading of each.
 */
export function titleVariants(title: string): string[] {
  const segments: string[] = [];
  let rest = title.trim();
  while (rest.endsWith(')')) {
    const m = /^(.*\S)\s*\(([^()]*)\)$/u.exec(rest);
    if (!m) break;
    segments.push(m[2]!);
    rest = m[1]!;
  }
  segments.unshift(rest);
  if (segments.length === 1 && !rest.includes(',')) {
    const key = normaliseTitle(rest);
    return key ? [key] : [];
  }
  const keys = new Set<string>();
  for (const segment of segments) {
    for (const variant of segmentVariants(segment)) {
      const key = normaliseTitle(variant);
      if (key) keys.add(key);
    }
  }
  return [...keys];
}

/**
 * A catalog prepared for lookups. Start-up matters (`als recommend` on an 87K-title catalog), so
 * only a cheap folded form of each title is computed up front (lower case, accents and everything
 * but letters and digits removed: "Spider-Man" → "spiderman"). A query's longest word must occur in
 * that form for a title to match at all, which leaves a handful of candidates; their full readings
 * (titleVariants) are computed on demand and kept.
 */
export interface TitleIndex {
  catalog: Catalog;
  /** Ratings per movie (training), for "most-rated among equals" and for the listings. */
  ratingCounts: Int32Array;
  /** Folded title per movie: the candidate filter. */
  folded: string[];
  /** Normalised readings per movie (spaced form), filled on first use. */
  keys: (string[] | undefined)[];
}

function fold(title: string): string {
  const t = NON_ASCII.test(title) ? title.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : title;
  return t.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

export function buildTitleIndex(catalog: Catalog, ratingCounts: Int32Array): TitleIndex {
  const n = catalog.titles.length;
  const folded: string[] = new Array(n);
  for (let item = 0; item < n; item++) folded[item] = fold(catalog.titles[item]!);
  return { catalog, ratingCounts, folded, keys: new Array(n) };
}

/** The normalised readings of a movie's title (computed once). */
export function keysOf(index: TitleIndex, item: number): string[] {
  let keys = index.keys[item];
  if (keys === undefined) {
    keys = titleVariants(index.catalog.titles[item]!);
    index.keys[item] = keys;
  }
  return keys;
}

/** "Title (year)" as MovieLens writes it (no year when the catalog has none). */
export function displayTitle(catalog: Catalog, item: number): string {
  const year = catalog.years[item]!;
  return year > 0 ? `${catalog.titles[item]} (${year})` : catalog.titles[item]!;
}

/** The outcome of a lookup: the movie and how it was found (printed so the person can check). */
export interface TitleMatch {
  item: number;
  query: string;
  /** "exact": whole title; "partial": the query is part of the title; "id": --movie-id. */
  how: 'exact' | 'partial' | 'id';
  /** Other movies that matched just as well (exact duplicates such as the two "Saw"), most-rated first. */
  alsoMatched: number[];
}

/** Splits a trailing "(1995)" off a query. */
export function splitQueryYear(query: string): { text: string; year: number | null } {
  const m = /^(.*\S)\s*\((\d{4})\)\s*$/u.exec(query.trim());
  if (m) return { text: m[1]!, year: Number(m[2]) };
  return { text: query.trim(), year: null };
}

function byPopularity(index: TitleIndex): (a: number, b: number) => number {
  return (a, b) => index.ratingCounts[b]! - index.ratingCounts[a]! || a - b;
}

/**
 * Resolves a title. Throws an AlsError with suggestions when nothing matches, and with the
 * candidates when several titles contain the query and none equals it.
 */
export function resolveTitle(index: TitleIndex, query: string): TitleMatch {
  const { text, year } = splitQueryYear(query);
  const variants = [
    ...new Set(
      segmentVariants(text)
        .map(normaliseTitle)
        .filter((k) => k.length > 0),
    ),
  ];
  if (variants.length === 0)
    throw new AlsError(`title ${JSON.stringify(query)} has no letters or digits`);
  const yearOk = (item: number): boolean => year === null || index.catalog.years[item] === year;
  const order = byPopularity(index);

  // Every reading of the query contains the words of its shortest reading: a matching title's
  // folded form contains the longest of them.
  // (An elided article is part of its word, "L'Avventura" → "lavventura"; MovieLens moves it to the
  // end, "Avventura, L'", so the probe drops it.)
  const shortest = normaliseTitle(text.replace(/^\s*[ld]['’]\s*/i, ''));
  const bare = variants.reduce((a, b) => (b.length < a.length ? b : a));
  const probeWords = (shortest.length > 0 && shortest.length < bare.length ? shortest : bare).split(
    ' ',
  );
  const probe = probeWords.reduce((a, b) => (b.length > a.length ? b : a));
  const candidates: number[] = [];
  for (let item = 0; item < index.folded.length; item++) {
    if (index.folded[item]!.includes(probe) && yearOk(item)) candidates.push(item);
  }

  const squashed = new Set(variants.map((v) => v.replace(/ /g, '')));
  const exactItems: number[] = [];
  for (const item of candidates) {
    if (keysOf(index, item).some((key) => squashed.has(key.replace(/ /g, ''))))
      exactItems.push(item);
  }
  if (exactItems.length > 0) {
    const sorted = exactItems.sort(order);
    return { item: sorted[0]!, query, how: 'exact', alsoMatched: sorted.slice(1) };
  }

  const needles = variants.map((v) => ` ${v} `);
  const partial: number[] = [];
  for (const item of candidates) {
    const haystack = ` ${keysOf(index, item).join(' | ')} `;
    if (needles.some((needle) => haystack.includes(needle))) partial.push(item);
  }
  if (partial.length === 1) return { item: partial[0]!, query, how: 'partial', alsoMatched: [] };
  if (partial.length > 1) {
    partial.sort(order);
    const shown = partial.slice(0, 8).map((item) => displayTitle(index.catalog, item));
    const more = partial.length > shown.length ? ` and ${partial.length - shown.length} more` : '';
    throw new AlsError(
      `title ${JSON.stringify(query)} is ambiguous: ${shown.join('; ')}${more} (give the full title, or add the year in parentheses)`,
    );
  }
  const suggestions = suggestTitles(index, text, 5).map((item) =>
    displayTitle(index.catalog, item),
  );
  const yearNote = year !== null ? ` from ${year}` : '';
  throw new AlsError(
    `no movie titled ${JSON.stringify(text)}${yearNote}` +
      (suggestions.length > 0 ? `; closest: ${suggestions.join('; ')}` : ''),
  );
}

/** Resolves an original movie id (the id in the data files) to its index. */
export function resolveMovieId(
  _index: TitleIndex,
  itemIds: Int32Array,
  movieId: number,
): TitleMatch {
  for (let item = 0; item < itemIds.length; item++) {
    if (itemIds[item] === movieId)
      return { item, query: `movie id ${movieId}`, how: 'id', alsoMatched: [] };
  }
  throw new AlsError(`no movie with id ${movieId} in the data set`);
}

/** Levenshtein distance with one reusable row (strings are short titles). */
function editDistance(a: string, b: string, row: Int32Array): number {
  const n = b.length;
  for (let j = 0; j <= n; j++) row[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= n; j++) {
      const above = row[j]!;
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[n]!;
}

/** Words that say nothing about which movie is meant (articles, "of", "and"). */
const STOP_WORDS = new Set(
  [...TRAILING_ARTICLES, 'of', 'and', 'in', 'on', 'to', 'for', 'with', 'l'].map((w) =>
    w.replace("'", ''),
  ),
);

/** The query's readings, plus each without a leading article ("The Incredibels" → "incredibels"). */
function queryVariants(query: string): string[] {
  const keys = new Set<string>();
  for (const variant of segmentVariants(query)) {
    const key = normaliseTitle(variant);
    if (!key) continue;
    keys.add(key);
    const space = key.indexOf(' ');
    if (space > 0 && TRAILING_ARTICLES.has(key.slice(0, space))) keys.add(key.slice(space + 1));
  }
  return [...keys];
}

/**
 * The `limit` titles closest to a query: similarity = ½(1 − edit distance / longer length)
 * + ½(shared words / words of the query, articles and "of"/"and" not counted), best over the
 * readings of title and query; ties → most rated.
 */
export function suggestTitles(index: TitleIndex, query: string, limit: number): number[] {
  const variants = queryVariants(query);
  if (variants.length === 0) return [];
  const queryWords = variants.map((v) => new Set(v.split(' ').filter((w) => !STOP_WORDS.has(w))));
  const numItems = index.folded.length;
  let longest = 0;
  for (let item = 0; item < numItems; item++)
    for (const key of keysOf(index, item)) longest = Math.max(longest, key.length);
  for (const v of variants) longest = Math.max(longest, v.length);
  const row = new Int32Array(longest + 1);
  const scores = new Float64Array(numItems);
  for (let item = 0; item < numItems; item++) {
    let best = 0;
    for (const key of keysOf(index, item)) {
      const keyWords = key.split(' ');
      for (let v = 0; v < variants.length; v++) {
        const q = variants[v]!;
        const longer = Math.max(q.length, key.length);
        // Titles far longer or shorter than the query cannot be close in edit distance: skip the DP.
        const editSimilarity =
          Math.abs(q.length - key.length) > longer / 2 ? 0 : 1 - editDistance(q, key, row) / longer;
        let shared = 0;
        for (const w of keyWords) if (queryWords[v]!.has(w)) shared++;
        const overlap = queryWords[v]!.size === 0 ? 0 : Math.min(1, shared / queryWords[v]!.size);
        const score = 0.5 * editSimilarity + 0.5 * overlap;
        if (score > best) best = score;
      }
    }
    scores[item] = best;
  }
  const candidates: number[] = [];
  for (let item = 0; item < scores.length; item++) if (scores[item]! >= 0.3) candidates.push(item);
  candidates.sort(
    (a, b) => scores[b]! - scores[a]! || index.ratingCounts[b]! - index.ratingCounts[a]! || a - b,
  );
  return candidates.slice(0, limit);
}
