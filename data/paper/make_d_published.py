#!/usr/bin/python3
"""Transcribes the numbers of paper D's Tables 1-6 into data/paper/d_published.json.

Reads the paper's LaTeX source in the authors' repository at the commit the kit cites
(README, "Sources"), mattiadri/crosslingual-contrastive@e2a8979. Run with Debian's python3 from
the project root, with a checkout of that commit (or `git archive e2a8979 paper | tar -x`):

    /usr/bin/python3 data/paper/make_d_published.py CHECKOUT

Every value's source names the .tex file and line it was read from at that commit, so a reader
can open it. The JSON it writes is committed; the kit never runs this script.
tests/paper_test.ts re-parses the paper's tables from another copy of the paper (its text, when
present) with its own TypeScript parser and compares every number with the JSON, so a slip in
either transcription shows up.
"""
import json
import re
import sys
from pathlib import Path

COMMIT = "e2a8979b5c279c9555a6fddc51fb8b6627ffcfb1"
PINNED = "mattiadri/crosslingual-contrastive@e2a8979"
# Table N -> (file under paper/sections/, index of the table environment in that file)
TABLE_FILES = {
    "Table 1": ("tables_results.tex", 0),
    "Table 2": ("tables_results.tex", 1),
    "Table 3": ("tables_results_i2t.tex", 0),
    "Table 4": ("tables_results_i2t.tex", 1),
    "Table 5": ("tables_pivot.tex", 0),
    "Table 6": ("tables_diagnostics.tex", 0),
}
HEADS = ["identity", "linear", "mlp"]
HEAD_LABELS = ["Identity (Before)", "After (Linear)", "After (MLP)"]
PER_LANG_COLUMNS = [
    "r1_identity", "r1_linear", "r1_mlp", "r1_delta_linear", "r1_delta_mlp",
    "mrr_identity", "mrr_linear", "mrr_mlp", "mrr_delta_linear", "mrr_delta_mlp",
]
PER_LANG_LABELS = [
    "R@1 Before", "R@1 Linear", "R@1 MLP", "R@1 Δ Lin", "R@1 Δ MLP",
    "MRR Before", "MRR Linear", "MRR MLP", "MRR Δ Lin", "MRR Δ MLP",
]
# Table 6 row labels as the LaTeX writes them -> (the D-T6 artifact's diagnostic key, unit, the
# label as the typeset paper prints it).
DIAGNOSTICS = {
    r"Effective rank": ("effectiveRank", "raw", "Effective rank"),
    r"PCA 90\% components": ("pca90", "raw", "PCA 90% components"),
    r"Mean cosine similarity": ("meanCosine", "raw", "Mean cosine similarity"),
    r"PoZ": ("poz", "fraction", "PoZ"),
    r"Entropy": ("entropy", "raw", "Entropy"),
    r"Gram corr.\ mean": ("gramCorrelation", "raw", "Gram corr. mean"),
    r"Neighborhood overlap ($k=10$)": ("neighbourOverlap", "fraction", "Neighborhood overlap ($k = 10$)"),
    r"Hubness skew ($k=10$)": ("hubSkewness", "raw", "Hubness skew ($k = 10$)"),
    r"Hub ratio (top 1\%)": ("hubRatio", "fraction", "Hub ratio (top 1%)"),
    r"Lang-ID probe acc.": ("langIdAccuracy", "fraction", "Lang-ID probe acc."),
}
CAPTION_CONTEXT = {
    "Table 1": "text-to-image retrieval, macro over 9 languages, mean ± std over 5 folds",
    "Table 2": "text-to-image retrieval per language, mean over 5 folds",
    "Table 3": "image-to-text retrieval, macro over 9 languages, mean ± std over 5 folds",
    "Table 4": "image-to-text retrieval per language, mean over 5 folds",
    "Table 5": "pivot caption retrieval, macro over 72 ordered pairs, mean ± std over 5 folds",
    "Table 6": "representation diagnostics, macro over languages, mean ± std over 5 folds",
}


def decimals(text):
    text = text.lstrip("+-")
    return len(text.split(".")[1]) if "." in text else 0


def tex_rows(path, index):
    """(line number, cells) of each data row of the index-th tabular in a .tex file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    begins = [n for n, line in enumerate(lines) if line.lstrip().startswith("\\begin{tabular}")]
    if index >= len(begins):
        raise SystemExit(f"{path}: no tabular number {index + 1}")
    n = begins[index]
    rows = []
    in_body = False
    while not lines[n].lstrip().startswith("\\end{tabular}"):
        line = lines[n].strip()
        if line.startswith("\\midrule"):
            in_body = True
        elif in_body and line.endswith("\\\\") and not line.startswith("\\"):
            cells = [c.strip() for c in line[: -2].split("&")]
            rows.append((n + 1, cells))
        n += 1
    return rows


def number(cell):
    """'$0.4735 \\pm 0.0077$' -> ('0.4735', '0.0077'); '+0.0256' -> ('+0.0256', None)."""
    m = re.fullmatch(r"\$?\s*([+-]?[0-9.]+)\s*(?:\\pm\s*([0-9.]+))?\s*\$?", cell)
    if not m:
        raise SystemExit(f"not a number: {cell!r}")
    return m.group(1), m.group(2)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sections = Path(sys.argv[1]) / "paper" / "sections"
    values = []

    def add(table, line, row, column, text, std_text, unit, row_label, column_label):
        tex_file = TABLE_FILES[table][0]
        entry = {
            "paper": "D",
            "table": table,
            "row": row,
            "column": column,
            "value": float(text),
            "decimals": decimals(text),
            "unit": unit,
            "rowLabel": row_label,
            "columnLabel": column_label,
            "source": f"[D] {table} ({CAPTION_CONTEXT[table]}), {PINNED} paper/sections/{tex_file} "
            f"line {line}: row \"{row_label}\", column \"{column_label}\": {text}{' ± ' + std_text if std_text else ''}",
        }
        if std_text is not None:
            entry["std"] = float(std_text)
        values.append(entry)

    for table, (tex_file, index) in TABLE_FILES.items():
        rows = tex_rows(sections / tex_file, index)
        if table in ("Table 2", "Table 4"):
            for line, cells in rows:
                if not re.fullmatch(r"[a-z]{2}", cells[0]):
                    continue
                assert len(cells) == 11, (line, cells)
                for col, label, cell in zip(PER_LANG_COLUMNS, PER_LANG_LABELS, cells[1:]):
                    text, std = number(cell)
                    assert std is None, (line, cell)
                    add(table, line, cells[0], col, text.lstrip("+"), None, "fraction", cells[0], label)
        else:
            for line, cells in rows:
                label = cells[0]
                if table == "Table 6":
                    row, unit, label = DIAGNOSTICS[label]
                else:
                    row, unit = label, "fraction"
                assert len(cells) == 4, (line, cells)
                for head, head_label, cell in zip(HEADS, HEAD_LABELS, cells[1:]):
                    mean, std = number(cell)
                    add(table, line, row, head, mean, std, unit, label, head_label)

    out = {
        "paper": "D",
        "citation": "Di Iorio, Multilingual CLIP Alignment via Image Pivoting (Jan 2026); its LaTeX source: "
        f"{PINNED} paper/ (commit {COMMIT})",
        "sourceFile": f"{PINNED} paper/sections/tables_results.tex, tables_results_i2t.tex, tables_pivot.tex, "
        "tables_diagnostics.tex",
        "notes": [
            f"Transcribed from the paper's LaTeX tables at {PINNED} by data/paper/make_d_published.py; "
            "checked number by number against the paper's tables by tests/paper_test.ts.",
            "Rows and columns use the kit's artifact keys: Tables 1/3/5 row = metric, column = head; "
            "Tables 2/4 row = language, column = the D-T2/D-T4 column; Table 6 row = the D-T6 diagnostic key.",
            "Tables 2 and 4 publish no std (tolerance: the kit's stated default).",
        ],
        "values": values,
    }
    target = Path(__file__).with_name("d_published.json")
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{target}: {len(values)} values")


if __name__ == "__main__":
    main()
