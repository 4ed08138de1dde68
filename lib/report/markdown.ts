/**
 * A small Markdown renderer for notebook markdown cells and table artifacts: ATX headings,
 * paragraphs, bullet and numbered lists (nested by indentation), block quotes, fenced and
 * indented code, horizontal rules, GitHub tables (with alignment), and inline code, bold,
 * italic, strikethrough, links, images and autolinks. Text is HTML-escaped; a few harmless
 * inline tags (`<sub>`, `<sup>`, `<br>`, `<b>`, `<i>`, `<em>`, `<strong>`, `<kbd>`, `<code>`)
 * pass through. Link targets other than http(s), mailto, `#…` and relative paths become `#`.
 */

import { escapeHtml } from "../util/escape_html.ts";
export { escapeHtml };

const SAFE_TAG = /&lt;(\/?)(sub|sup|br|b|i|em|strong|kbd|code|u|small)\s*(\/?)&gt;/gi;

/** A link target that is safe to put in href/src (anything else becomes "#"). */
export function safeUrl(url: string): string {
  const u = url.trim();
  if (/^(https?:|mailto:)/i.test(u) || /^[#./]/.test(u) || !/^[a-z][a-z0-9+.-]*:/i.test(u)) {
    return u;
  }
  return "#";
}

/** Renders inline Markdown (one paragraph's text) to HTML. */
export function renderInline(text: string): string {
  const slots: string[] = [];
  const hold = (html: string) => `\u0000${slots.push(html) - 1}\u0000`;
  let s = text;
  // Code spans first: their content is literal.
  s = s.replace(
    /(`+)([\s\S]*?[^`])\1(?!`)/g,
    (_, _t, code: string) => hold(`<code>${escapeHtml(code.trim())}</code>`),
  );
  // Backslash escapes.
  s = s.replace(/\\([\\`*_{}\[\]()#+\-.!|<>~$])/g, (_, c: string) => hold(escapeHtml(c)));
  // Images and links (before escaping, so the URL stays intact).
  s = s.replace(
    /!\[([^\]]*)\]\(([^)\s]+)(?:\s+"([^"]*)")?\)/g,
    (_, alt: string, url: string, title?: string) =>
      hold(
        `<img src="${escapeHtml(safeUrl(url))}" alt="${escapeHtml(alt)}"${
          title ? ` title="${escapeHtml(title)}"` : ""
        }>`,
      ),
  );
  s = s.replace(
    /\[([^\]]+)\]\(([^)\s]+)(?:\s+"([^"]*)")?\)/g,
    (_, label: string, url: string, title?: string) =>
      hold(
        `<a href="${escapeHtml(safeUrl(url))}"${title ? ` title="${escapeHtml(title)}"` : ""}>${
          renderInline(label)
        }</a>`,
      ),
  );
  s = s.replace(
    /<(https?:\/\/[^>\s]+)>/g,
    (_, url: string) => hold(`<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`),
  );
  s = escapeHtml(s).replaceAll("&quot;", '"');
  s = s.replace(
    SAFE_TAG,
    (_, close: string, tag: string, self: string) =>
      `<${close}${tag.toLowerCase()}${self ? " /" : ""}>`,
  );
  s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>");
  s = s.replace(/(^|[^*\w])\*(?=[^\s*])([\s\S]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>");
  s = s.replace(/(^|[^\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>");
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  // Hard line breaks: two trailing spaces or a backslash before the newline.
  s = s.replace(/( {2,}|\\)\n/g, "<br>\n");
  // deno-lint-ignore no-control-regex
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => slots[Number(i)]!);
}

const isBlank = (l: string) => l.trim() === "";
const FENCE = /^ {0,3}(```+|~~~+)\s*([\w+-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const HR = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^( {0,3})([-*+])\s+(.*)$/;
const ORDERED = /^( {0,3})(\d{1,9})[.)]\s+(.*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === "|") {
      cur += "|";
      i++;
    } else if (s[i] === "|") {
      cells.push(cur.trim());
      cur = "";
    } else cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

function startsBlock(line: string, next: string | undefined): boolean {
  return FENCE.test(line) || HEADING.test(line) || HR.test(line) || BULLET.test(line) ||
    ORDERED.test(line) ||
    /^ {0,3}>/.test(line) ||
    (line.includes("|") && next !== undefined && TABLE_RULE.test(next) && next.includes("-"));
}

function slug(text: string): string {
  return text.toLowerCase().replace(/<[^>]+>/g, "").replace(/[^\p{L}\p{N}]+/gu, "-").replace(
    /^-|-$/g,
    "",
  );
}

/** Renders a Markdown document to HTML. `headingIds` adds `id` slugs to headings. */
export function renderMarkdown(md: string, opts: { headingIds?: boolean } = {}): string {
  return renderBlocks(md.replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n"), opts).join(
    "\n",
  );
}

function renderBlocks(lines: string[], opts: { headingIds?: boolean }): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trim().startsWith(marker)) body.push(lines[i++]!);
      i++; // closing fence
      const lang = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : "";
      out.push(`<pre><code${lang}>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      const level = h[1]!.length;
      const html = renderInline(h[2]!);
      out.push(
        `<h${level}${opts.headingIds ? ` id="${escapeHtml(slug(html))}"` : ""}>${html}</h${level}>`,
      );
      i++;
      continue;
    }
    if (HR.test(line)) {
      out.push("<hr>");
      i++;
      continue;
    }
    if (/^ {4,}\S/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && (/^ {4,}/.test(lines[i]!) || isBlank(lines[i]!))) {
        body.push(lines[i++]!.slice(4));
      }
      while (body.length > 0 && isBlank(body[body.length - 1]!)) body.pop();
      out.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      const body: string[] = [];
      while (
        i < lines.length && !isBlank(lines[i]!) && (/^ {0,3}>/.test(lines[i]!) || body.length > 0)
      ) {
        if (!/^ {0,3}>/.test(lines[i]!) && startsBlock(lines[i]!, lines[i + 1])) break;
        body.push(lines[i++]!.replace(/^ {0,3}> ?/, ""));
      }
      out.push(`<blockquote>\n${renderBlocks(body, opts).join("\n")}\n</blockquote>`);
      continue;
    }
    if (
      line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]!) &&
      lines[i + 1]!.includes("-")
    ) {
      const head = splitRow(line);
      const align = splitRow(lines[i + 1]!).map((c) =>
        c.startsWith(":") && c.endsWith(":")
          ? "center"
          : c.endsWith(":")
          ? "right"
          : c.startsWith(":")
          ? "left"
          : ""
      );
      const style = (j: number) => (align[j] ? ` style="text-align:${align[j]}"` : "");
      i += 2;
      const body: string[][] = [];
      while (i < lines.length && !isBlank(lines[i]!) && lines[i]!.includes("|")) {
        body.push(splitRow(lines[i++]!));
      }
      out.push(
        `<table>\n<thead><tr>${
          head.map((c, j) => `<th${style(j)}>${renderInline(c)}</th>`).join("")
        }</tr></thead>\n<tbody>\n` +
          body.map((r) =>
            `<tr>${
              head.map((_, j) => `<td${style(j)}>${renderInline(r[j] ?? "")}</td>`).join("")
            }</tr>`
          ).join("\n") +
          "\n</tbody>\n</table>",
      );
      continue;
    }
    const bullet = BULLET.exec(line), ordered = ORDERED.exec(line);
    if (bullet || ordered) {
      const isOrdered = !bullet;
      const re = isOrdered ? ORDERED : BULLET;
      const items: string[][] = [];
      let loose = false;
      while (i < lines.length) {
        const m = re.exec(lines[i]!);
        if (!m) break;
        const indent = m[1]!.length + (isOrdered ? m[2]!.length + 2 : 2);
        const item = [m[3]!];
        i++;
        while (i < lines.length) {
          const l = lines[i]!;
          if (isBlank(l)) {
            // A blank line continues the item only when an indented line follows.
            const nxt = lines[i + 1];
            if (
              nxt !== undefined && /^\s/.test(nxt) && nxt.length - nxt.trimStart().length >= indent
            ) {
              item.push("");
              loose = true;
              i++;
              continue;
            }
            if (nxt !== undefined && re.test(nxt)) loose = true;
            break;
          }
          const lead = l.length - l.trimStart().length;
          if (lead >= indent) item.push(l.slice(indent));
          else if (lead >= 2 && (BULLET.test(l.trimStart()) || ORDERED.test(l.trimStart()))) {
            item.push(l.trimStart());
          } else if (re.test(l) || startsBlock(l, lines[i + 1])) break;
          else item.push(l.trim()); // lazy continuation
          i++;
        }
        items.push(item);
        while (
          i < lines.length && isBlank(lines[i]!) && lines[i + 1] !== undefined &&
          re.test(lines[i + 1]!)
        ) i++;
      }
      const start = isOrdered && ordered && ordered[2] !== "1"
        ? ` start="${Number(ordered[2])}"`
        : "";
      const tag = isOrdered ? "ol" : "ul";
      const lis = items.map((item) => {
        const blocks = renderBlocks(item, opts);
        const inner = !loose && blocks[0]?.startsWith("<p>")
          ? [blocks[0].slice(3, -4), ...blocks.slice(1)].join("\n")
          : blocks.join("\n");
        return `<li>${inner}</li>`;
      });
      out.push(`<${tag}${start}>\n${lis.join("\n")}\n</${tag}>`);
      continue;
    }
    // Paragraph: up to a blank line or the start of another block.
    const para: string[] = [line];
    i++;
    while (i < lines.length && !isBlank(lines[i]!) && !startsBlock(lines[i]!, lines[i + 1])) {
      para.push(lines[i++]!);
    }
    out.push(`<p>${renderInline(para.map((l) => l.replace(/^ +/, "")).join("\n"))}</p>`);
  }
  return out;
}
