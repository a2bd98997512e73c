/**
 * The one-page HTML report: a pure function from already-computed content (numbers, tables and
 * chart SVGs) to one self-contained HTML document. Inline CSS and inline SVG only: no script, no
 * font, no image or style sheet from the network, so the file opens anywhere, offline.
 */

/** A value in a table cell: numbers are formatted by the producer, so cells are text. */
export type Cell = string | number | null;

/** A table: caption, header row, body rows; `note` is a line of small print under it. */
export interface ReportTable {
  caption: string;
  columns: string[];
  rows: Cell[][];
  note?: string;
  /** Alignment per column; without it, cells that look like figures are right-aligned. */
  align?: ('left' | 'right')[];
}

/** A chart, or the reason there is none (shown in its place instead of empty axes). */
export interface ReportChart {
  caption: string;
  /** Standalone SVG document from the chart renderer; null when there is nothing to draw. */
  svg: string | null;
  /** Shown when svg is null (required then), or as small print under the chart. */
  note?: string;
}

/** A titled part of the page: paragraphs, tables and charts in that order. */
export interface ReportSection {
  title: string;
  paragraphs?: string[];
  tables?: ReportTable[];
  charts?: ReportChart[];
}

/** Everything the page shows. */
export interface ReportContent {
  title: string;
  /** Small print under the title: checkpoint path, data set, date. */
  subtitle: string[];
  sections: ReportSection[];
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/**
 * Prepares a standalone SVG document for inlining: drops any XML prologue and makes element ids
 * unique per chart (several inline SVGs share one id space in a page; a clash would make one
 * chart's clip path or gradient apply to another).
 */
export function inlineSvg(svg: string, idPrefix: string): string {
  const body = svg.replace(/^\s*<\?xml[^>]*>\s*/, '').replace(/<!DOCTYPE[^>]*>\s*/i, '');
  return body
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${idPrefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${idPrefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${idPrefix}-${id}"`);
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d2330; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.subtitle { color: #5b6475; font-size: 13px; margin: 0 0 24px; }
.subtitle span { display: block; }
section { background: #fff; border: 1px solid #e2e5ea; border-radius: 8px; padding: 18px 22px; margin: 0 0 20px; }
h2 { font-size: 19px; margin: 0 0 12px; }
p { margin: 0 0 10px; }
.tables { display: flex; flex-wrap: wrap; gap: 20px 36px; align-items: flex-start; }
table { border-collapse: collapse; font-size: 14px; margin: 4px 0 8px; }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { padding: 4px 12px 4px 0; border-bottom: 1px solid #eceef2; text-align: left; vertical-align: top; }
th { color: #5b6475; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #5b6475; font-size: 12.5px; margin: 2px 0 0; max-width: 640px; }
figure { margin: 10px 0 18px; }
figcaption { font-weight: 600; margin: 0 0 6px; }
figure svg { max-width: 100%; height: auto; display: block; }
.missing { border: 1px dashed #c7ccd6; border-radius: 6px; padding: 14px 16px; color: #5b6475; background: #fafbfc; }
`;

function renderCell(cell: Cell, tag: 'td' | 'th', align?: 'left' | 'right'): string {
  if (align !== undefined) {
    const text = cell === null ? '–' : String(cell);
    return `<${tag}${align === 'right' ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
  }
  if (cell === null) return `<${tag} class="num">–</${tag}>`;
  if (typeof cell === 'number') return `<${tag} class="num">${escapeHtml(String(cell))}</${tag}>`;
  // Right-align text that is a formatted number ("0.8512", "12,345", "43 %", "1.2 s", "0.85 stars
  // (epoch 9)") or the dash of a missing value, so columns of figures line up.
  const numeric = /^([−\-+]?[\d,.]+( ?(%|s|ms|×|stars))?( \(.*\))?|–)$/.test(cell.trim());
  return `<${tag}${numeric ? ' class="num"' : ''}>${escapeHtml(cell)}</${tag}>`;
}

function renderTable(table: ReportTable): string {
  const head =
    table.columns.length > 0
      ? `<thead><tr>${table.columns.map((c, i) => `<th${table.align?.[i] === 'right' ? ' class="num"' : ''}>${escapeHtml(c)}</th>`).join('')}</tr></thead>`
      : '';
  const body = table.rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => renderCell(cell, i === 0 && table.columns.length === 0 ? 'th' : 'td', table.align?.[i])).join('')}</tr>`,
    )
    .join('\n');
  const note = table.note ? `<p class="note">${escapeHtml(table.note)}</p>` : '';
  return `<div><table><caption>${escapeHtml(table.caption)}</caption>${head}<tbody>\n${body}\n</tbody></table>${note}</div>`;
}

function renderChart(chart: ReportChart, id: string): string {
  const caption = `<figcaption>${escapeHtml(chart.caption)}</figcaption>`;
  if (chart.svg === null) {
    return `<figure class="chart-missing">${caption}<div class="missing">${escapeHtml(chart.note ?? 'Nothing to draw.')}</div></figure>`;
  }
  const note = chart.note ? `<p class="note">${escapeHtml(chart.note)}</p>` : '';
  return `<figure class="chart" id="${id}">${caption}${inlineSvg(chart.svg, id)}${note}</figure>`;
}

/** Renders the report as one HTML document (UTF-8). */
export function renderReportHtml(content: ReportContent): string {
  let chartCount = 0;
  const sections = content.sections.map((section) => {
    const parts: string[] = [`<h2>${escapeHtml(section.title)}</h2>`];
    for (const paragraph of section.paragraphs ?? []) parts.push(`<p>${escapeHtml(paragraph)}</p>`);
    if (section.tables && section.tables.length > 0)
      parts.push(`<div class="tables">${section.tables.map(renderTable).join('\n')}</div>`);
    for (const chart of section.charts ?? [])
      parts.push(renderChart(chart, `chart${++chartCount}`));
    return `<section>\n${parts.join('\n')}\n</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(content.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(content.title)}</h1>
<p class="subtitle">${content.subtitle.map((line) => `<span>${escapeHtml(line)}</span>`).join('')}</p>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
