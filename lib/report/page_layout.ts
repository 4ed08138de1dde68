import { escapeHtml } from "./markdown.ts";

const CSS = `
:root{--fg:#1d1f21;--muted:#666;--line:#e3e3e3;--accent:#1f5fa8;--code:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0;line-height:1.5}
nav{background:#22303f;padding:.5em 1.5em;position:sticky;top:0;z-index:10;font-size:90%}
nav a{color:#dce6f2;margin-right:1.2em;text-decoration:none}
nav a.current{color:#fff;font-weight:600}
main{max-width:1200px;margin:0 auto;padding:1em 1.5em 4em}
a{color:var(--accent)}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:88%}
pre{background:var(--code);padding:.6em .8em;overflow-x:auto;border-radius:4px}
:not(pre)>code{background:var(--code);padding:.1em .3em;border-radius:3px}
table{border-collapse:collapse;margin:.6em 0;font-size:90%}
th,td{border:1px solid var(--line);padding:.25em .6em;vertical-align:top}
th{background:#f3f5f7}
blockquote{margin:.6em 0;padding:.1em 1em;border-left:4px solid var(--line);color:#444}
.cell{position:relative;margin:1.1em 0;padding-left:3.4em}
.cell>.anchor{position:absolute;left:0;top:.1em;width:3em;text-align:right;color:#999;font-size:80%;text-decoration:none}
.cell>.anchor:hover{color:var(--accent)}
.cell:target{background:#fffbe6}
details.source summary{cursor:pointer;color:var(--muted);font-size:85%;font-family:ui-monospace,monospace}
.output{margin:.4em 0}
.stream.stderr{background:#fff5f0;color:#7a3b00}
.error-output{background:#fdecea;border:1px solid #f5c2c0;padding:.5em .8em;border-radius:4px;color:#8a1c1c}
.error-output pre{background:transparent;color:inherit}
.plotly-figure{width:100%;min-height:420px}
.image-output{max-width:100%}
.artifact-links{font-size:85%;color:var(--muted);margin:.3em 0}
.artifact-links a{margin-right:.5em}
.status-ok{color:#1a7f37}.status-failed{color:#b42318;font-weight:600}
.prov{color:var(--muted);font-size:80%}
`;

/** A static page: navigation bar, main content, optional scripts (paths relative to the page). */
export function pageHtml(opts: {
  title: string;
  nav: { href: string; label: string; current?: boolean }[];
  body: string;
  scripts?: string[];
  inlineScript?: string;
}): string {
  const nav = opts.nav.map((n) =>
    `<a href="${escapeHtml(n.href)}"${n.current ? ' class="current"' : ""}>${
      escapeHtml(n.label)
    }</a>`
  ).join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${CSS}</style>
${(opts.scripts ?? []).map((s) => `<script src="${escapeHtml(s)}"></script>`).join("\n")}
</head><body>
<nav>${nav}</nav>
<main>
${opts.body}
</main>
${opts.inlineScript ? `<script>${opts.inlineScript}</script>` : ""}
</body></html>
`;
}

/** Draws every `div.plotly-figure` of the page from its JSON spec (offline plotly.js beside). */
export const PLOT_LOADER = `
(function(){
  var divs = document.querySelectorAll(".plotly-figure");
  if (divs.length === 0) return;
  if (typeof Plotly === "undefined") {
    divs.forEach(function(d){ d.textContent = "plotly.min.js did not load: the interactive figure cannot be drawn."; });
    return;
  }
  divs.forEach(function(d){
    var spec = JSON.parse(document.getElementById(d.id + "-spec").textContent);
    var layout = Object.assign({}, spec.layout || {});
    if (!layout.height) layout.height = 460;
    d.style.minHeight = layout.height + "px";
    Plotly.newPlot(d, spec.data || [], layout, {responsive: true, displaylogo: false});
  });
})();
`;
