/**
 * Citations a reader of the repository can follow: the papers by their public identifiers and
 * the authors' files at the commits the kit cites (README, "Sources"), never files outside the
 * repository.
 */

/** [K]: the paper on arXiv and its authors' code (Apache-2.0) at the commit the kit follows. */
export const K_ARXIV = "arXiv:2505.13628";
/** nkrasner/cl-clip-align at commit d75b729c62af915d0b737cbda4038f2e0c5e4ca6. */
export const K_CODE = "nkrasner/cl-clip-align@d75b729";
/**
 * [D] has no arXiv id: its LaTeX source is in the authors' repository, at commit
 * e2a8979b5c279c9555a6fddc51fb8b6627ffcfb1 (the commit the kit's D code follows);
 * `D_TEX/result.tex line 12` names a line of the paper's text.
 */
export const D_CODE = "mattiadri/crosslingual-contrastive@e2a8979";
export const D_TEX = `${D_CODE} paper/sections`;

/** `arXiv:NNNN.NNNNN` */
const ARXIV_RE = /\barXiv:\d{4}\.\d{4,5}\b/;
/** `owner/repo@<commit> path/to/file.ext`, optionally `line N` */
const PINNED_FILE_RE = /\b[\w.-]+\/[\w.-]+@[0-9a-f]{7,40} [\w./-]+\.\w+/;
/** References to files outside the repository that a reader cannot open. */
const OUTSIDE_RE = /\bpapers\/\d{3}_|\bSPEC(\.md)?\b/;

/**
 * Why `source` is not a citation a reader can follow, or null when it is one: it must name the
 * paper by its arXiv id or an authors' file at a pinned commit (`owner/repo@abc1234 path`), and
 * must not point at files outside the repository (`papers/000_….txt`, `SPEC.md`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { citationProblem, D_TEX, K_ARXIV } from "./paper_citation.ts";
 * assert.equal(citationProblem(`[K] Table 1, ${K_ARXIV}`), null);
 * assert.equal(citationProblem(`[D] Table 1 (${D_TEX}/tables_results.tex line 8)`), null);
 * assert.match(citationProblem("papers/000_8f92a1ef6a7f1a65.txt line 33")!, /outside/);
 * assert.match(citationProblem("K Table 1")!, /arXiv id or an authors' file/);
 * ```
 */
export function citationProblem(source: string): string | null {
  const outside = OUTSIDE_RE.exec(source)?.[0];
  if (outside !== undefined) {
    return `"${outside}…" is a file outside the repository; cite the paper (arXiv id, table ` +
      `or section) or the authors' file at a pinned commit`;
  }
  if (!ARXIV_RE.test(source) && !PINNED_FILE_RE.test(source)) {
    return `expected the paper's arXiv id or an authors' file at a pinned commit (e.g. "[K] Table 1, ${K_ARXIV}" or "[D] Table 1, ${D_TEX}/tables_results.tex line 8")`;
  }
  return null;
}
