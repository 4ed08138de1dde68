import { escapeHtml, renderMarkdown } from "./markdown.ts";
import { joinText, type NotebookOutput, stripAnsi } from "./notebook_format.ts";

/** MIME types in the order the report prefers them (interactive first, plain text last). */
export const MIME_ORDER = [
  "application/vnd.plotly.v1+json",
  "text/html",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "text/markdown",
  "text/latex",
  "application/json",
  "text/plain",
] as const;

/** Numbers the plotly figures of one page (ids `plot-1`, `plot-2`, …). */
export class PlotCounter {
  count = 0;
  next(): string {
    this.count++;
    return `plot-${this.count}`;
  }
}

/** JSON that is safe inside a `<script type="application/json">` element. */
export function scriptJson(x: unknown): string {
  return JSON.stringify(x).replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028").replaceAll(
    "\u2029",
    "\\u2029",
  );
}

function renderMime(mime: string, value: unknown, plots: PlotCounter): string {
  switch (mime) {
    case "application/vnd.plotly.v1+json": {
      const fig = (typeof value === "string" ? JSON.parse(value) : value) as {
        data?: unknown;
        layout?: unknown;
      };
      const id = plots.next();
      return `<div class="plotly-figure" id="${id}"></div>\n` +
        `<script type="application/json" id="${id}-spec">${
          scriptJson({ data: fig.data ?? [], layout: fig.layout ?? {} })
        }</script>`;
    }
    case "text/html":
      return `<div class="html-output">${joinText(value)}</div>`;
    case "image/svg+xml":
      return `<div class="svg-output">${joinText(value)}</div>`;
    case "image/png":
    case "image/jpeg":
      return `<img class="image-output" alt="figure" src="data:${mime};base64,${
        joinText(value).replace(/\s+/g, "")
      }">`;
    case "text/markdown":
      return `<div class="markdown-output">${renderMarkdown(joinText(value))}</div>`;
    case "application/json":
      return `<pre class="text-output">${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
    default:
      return `<pre class="text-output">${escapeHtml(stripAnsi(joinText(value)))}</pre>`;
  }
}

/**
 * One notebook output as HTML: streams as preformatted text (stderr marked), errors with their
 * traceback, rich outputs by the first MIME type of `MIME_ORDER` they carry (a plotly figure
 * becomes a `div.plotly-figure` plus its JSON spec, drawn by the page's script).
 */
export function renderOutput(o: NotebookOutput, plots: PlotCounter): string {
  if (o.output_type === "stream") {
    const text = stripAnsi(joinText(o.text));
    if (text.trim() === "") return "";
    return `<pre class="stream ${o.name === "stderr" ? "stderr" : "stdout"}">${
      escapeHtml(text)
    }</pre>`;
  }
  if (o.output_type === "error") {
    const tb = (o.traceback ?? []).map(stripAnsi).join("\n");
    return `<div class="error-output"><strong>${escapeHtml(o.ename ?? "Error")}</strong>: ${
      escapeHtml(o.evalue ?? "")
    }` +
      (tb ? `<pre>${escapeHtml(tb)}</pre>` : "") + `</div>`;
  }
  const data = o.data ?? {};
  for (const mime of MIME_ORDER) {
    if (data[mime] !== undefined) {
      try {
        return renderMime(mime, data[mime], plots);
      } catch (err) {
        return `<div class="error-output">cannot show the ${escapeHtml(mime)} output: ${
          escapeHtml(String(err))
        }</div>`;
      }
    }
  }
  const kinds = Object.keys(data);
  return kinds.length === 0
    ? ""
    : `<p class="unsupported">(output of type ${escapeHtml(kinds.join(", "))} not shown)</p>`;
}
