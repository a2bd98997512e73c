/** How `als recommend` and `als similar` print a list: the resolved titles and a fixed-width table. */
import type { ListOptions, ListingRow } from '../app/listing.js';
import type { TitleMatch } from '../data/titles.js';

/** The list options of the registry's listing keys. */
export function listOptionsOf(o: {
  top: number;
  minRatings: number;
  genre: string[];
  excludeGenre: string[];
  yearFrom?: number;
  yearTo?: number;
  includeUnrated?: boolean;
}): ListOptions {
  return {
    top: o.top,
    minRatings: o.minRatings,
    genres: o.genre,
    excludeGenres: o.excludeGenre,
    yearFrom: o.yearFrom,
    yearTo: o.yearTo,
    includeUnrated: o.includeUnrated,
  };
}

/** One line per resolved title: what the person typed and what it became. */
export function describeMatch(match: TitleMatch, display: (item: number) => string): string {
  const chosen = display(match.item);
  const how = match.how === 'partial' ? ' (partial match)' : '';
  const also =
    match.alsoMatched.length > 0
      ? ` (most rated of ${match.alsoMatched.length + 1}; also ${match.alsoMatched.slice(0, 3).map(display).join('; ')})`
      : '';
  return match.how === 'id'
    ? `${match.query} → ${chosen}`
    : `${JSON.stringify(match.query)} → ${chosen}${how}${also}`;
}

/** A fixed-width table: rank, score, title (year), genres, ratings. */
export function formatTable(
  rows: ListingRow[],
  scoreHeader: string,
  scoreDigits: number,
  scoreText?: (row: ListingRow) => string,
): string {
  if (rows.length === 0)
    return 'no movie passes the filters (try a lower --min-ratings or fewer genre/year filters)\n';
  const titleOf = (r: ListingRow): string =>
    `${r.year !== null ? `${r.title} (${r.year})` : r.title}${r.neverRated ? ' [never rated: scored from its genres]' : ''}`;
  const titles = rows.map(titleOf);
  const genres = rows.map((r) => (r.genres.length > 0 ? r.genres.join('|') : '-'));
  const titleWidth = Math.max(5, ...titles.map((t) => t.length));
  const genreWidth = Math.max(6, ...genres.map((g) => g.length));
  const rankWidth = Math.max(1, String(rows.length).length);
  const scores = rows.map((r) => (scoreText ? scoreText(r) : r.score.toFixed(scoreDigits)));
  const scoreWidth = Math.max(scoreHeader.length, ...scores.map((s) => s.length));
  const lines = [
    `${'#'.padStart(rankWidth)}  ${scoreHeader.padStart(scoreWidth)}  ${'title'.padEnd(titleWidth)}  ${'genres'.padEnd(genreWidth)}  ratings`,
  ];
  rows.forEach((r, k) => {
    lines.push(
      `${String(r.rank).padStart(rankWidth)}  ${scores[k]!.padStart(scoreWidth)}  ${titles[k]!.padEnd(titleWidth)}  ${genres[k]!.padEnd(genreWidth)}  ${String(r.ratings).padStart(7)}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
