/**
 * Markdown for notebook markdown cells and table artifacts in the report, rendered by
 * markdown-it (CommonMark with GitHub tables and strikethrough). Raw HTML is escaped, except a
 * few harmless inline tags (`<sub>`, `<sup>`, `<br>`, `<b>`, `<i>`, `<em>`, `<strong>`, `<kbd>`,
 * `<code>`, `<u>`, `<small>`), which pass through. Link targets other than http(s), mailto, `#…`
 * and relative paths become `#`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderInline, renderMarkdown } from "./markdown.ts";
 * assert.equal(renderInline("[w](https://e.org/Foo_(bar))"), '<a href="https://e.org/Foo_(bar)">w</a>');
 * assert.equal(renderMarkdown("## A *b*", { headingIds: true }), '<h2 id="a-b">A <em>b</em></h2>\n');
 * ```
 */
import MarkdownIt from "markdown-it";
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

function slug(html: string): string {
  return html.toLowerCase().replace(/<[^>]+>/g, "").replace(/[^\p{L}\p{N}]+/gu, "-").replace(
    /^-|-$/g,
    "",
  );
}

function markdownIt(headingIds: boolean): InstanceType<typeof MarkdownIt> {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  // Every link is rendered; an unsafe target becomes "#" (markdown-it would drop the link).
  md.validateLink = () => true;
  const normalizeLink = md.normalizeLink.bind(md);
  md.normalizeLink = (url: string) => safeUrl(url) === "#" ? "#" : normalizeLink(url);
  md.renderer.rules.text = (tokens, idx) =>
    escapeHtml(tokens[idx]!.content).replace(
      SAFE_TAG,
      (_m, close: string, tag: string, self: string) =>
        `<${close}${tag.toLowerCase()}${self ? " /" : ""}>`,
    );
  if (headingIds) {
    md.renderer.rules.heading_open = (tokens, idx, options, env, self) => {
      const inline = tokens[idx + 1];
      if (inline?.type === "inline" && inline.children) {
        tokens[idx]!.attrSet("id", slug(self.renderInline(inline.children, options, env)));
      }
      return self.renderToken(tokens, idx, options);
    };
  }
  return md;
}

const plain = markdownIt(false);
const withIds = markdownIt(true);

/** Renders inline Markdown (one paragraph's text) to HTML. */
export function renderInline(text: string): string {
  return plain.renderInline(text);
}

/** Renders a Markdown document to HTML. `headingIds` adds `id` slugs to headings. */
export function renderMarkdown(md: string, opts: { headingIds?: boolean } = {}): string {
  return (opts.headingIds ? withIds : plain).render(md);
}
