/** A table cell: text, a number, or empty. */
export type Cell = string | number | boolean | null;
/** One row, keyed by column name. */
export type Row = Record<string, Cell>;

/** How to print each numeric column: digits after the point (default 2 for non-integers). */
export type ColumnFormats = Record<string, number>;

export function formatCell(value: Cell, digits?: number): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    if (digits !== undefined) return value.toFixed(digits);
    return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
  return String(value);
}

function escapeMd(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A GitHub-flavoured Markdown table; numbers right-aligned. */
export function renderMarkdownTable(
  columns: string[],
  rows: Row[],
  formats: ColumnFormats = {},
): string {
  const numeric = columns.map((c) =>
    rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === "number")
  );
  const head = `| ${columns.map(escapeMd).join(" | ")} |`;
  const rule = `|${numeric.map((n) => (n ? " ---: " : " --- ")).join("|")}|`;
  const body = rows.map((r) =>
    `| ${columns.map((c) => escapeMd(formatCell(r[c] ?? null, formats[c]))).join(" | ")} |`
  );
  return [head, rule, ...body].join("\n") + "\n";
}

function escapeTex(s: string): string {
  return s.replace(
    /([\\&%$#_{}~^])/g,
    (m) =>
      m === "\\"
        ? "\\textbackslash{}"
        : m === "~"
        ? "\\textasciitilde{}"
        : m === "^"
        ? "\\textasciicircum{}"
        : `\\${m}`,
  ).replaceAll("±", "$\\pm$").replaceAll("→", "$\\rightarrow$");
}

/** A LaTeX `tabular` (booktabs) with caption and label. */
export function renderLatexTable(
  id: string,
  title: string,
  columns: string[],
  rows: Row[],
  formats: ColumnFormats = {},
): string {
  const numeric = columns.map((c) =>
    rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === "number")
  );
  const spec = numeric.map((n) => (n ? "r" : "l")).join("");
  const lines = [
    "\\begin{table}[t]",
    "\\centering",
    `\\caption{${escapeTex(title)}}`,
    `\\label{tab:${id}}`,
    `\\begin{tabular}{${spec}}`,
    "\\toprule",
    columns.map(escapeTex).join(" & ") + " \\\\",
    "\\midrule",
    ...rows.map((r) =>
      columns.map((c) => escapeTex(formatCell(r[c] ?? null, formats[c]))).join(" & ") + " \\\\"
    ),
    "\\bottomrule",
    "\\end{tabular}",
    "\\end{table}",
  ];
  return lines.join("\n") + "\n";
}

/** An HTML table (used in notebooks and the report). */
export function renderHtmlTable(
  columns: string[],
  rows: Row[],
  formats: ColumnFormats = {},
): string {
  const esc = (s: string) =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const head = `<tr>${columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
  const body = rows.map((r) =>
    `<tr>${
      columns.map((c) => {
        const v = r[c] ?? null;
        return `<td${typeof v === "number" ? ' style="text-align:right"' : ""}>${
          esc(formatCell(v, formats[c]))
        }</td>`;
      }).join("")
    }</tr>`
  ).join("\n");
  return `<table class="kit-table">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
