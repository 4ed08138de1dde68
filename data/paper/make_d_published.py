#!/usr/bin/python3
"""Transcribes the numbers of paper D's Tables 1-6 into data/paper/d_published.json.

Run with Debian's python3 from the project root:

    /usr/bin/python3 data/paper/make_d_published.py ../shared/papers/003_baac9c9483456860.txt

The JSON it writes is committed; the kit never runs this script. tests/paper_test.ts re-parses the
paper's tables with its own (TypeScript) parser and compares every number with the JSON, so a slip
in either transcription shows up.
"""
import json
import re
import sys
from pathlib import Path

PAPER_FILE = "papers/003_baac9c9483456860.txt"
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
# Table 6 row labels -> the D-T6 artifact's diagnostic keys, with the unit of each.
DIAGNOSTICS = {
    "Effective rank": ("effectiveRank", "raw"),
    "PCA 90% components": ("pca90", "raw"),
    "Mean cosine similarity": ("meanCosine", "raw"),
    "PoZ": ("poz", "fraction"),
    "Entropy": ("entropy", "raw"),
    "Gram corr. mean": ("gramCorrelation", "raw"),
    "Neighborhood overlap ($k = 10$)": ("neighbourOverlap", "fraction"),
    "Hubness skew ($k = 10$)": ("hubSkewness", "raw"),
    "Hub ratio (top 1%)": ("hubRatio", "fraction"),
    "Lang-ID probe acc.": ("langIdAccuracy", "fraction"),
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


def tables(lines):
    """Yields (table name, [(line number, cells)]) for each pipe table followed by its caption."""
    i = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        start = i
        while i < len(lines) and lines[i].startswith("|"):
            i += 1
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        m = re.match(r"(Table \d+):", lines[j]) if j < len(lines) else None
        if not m:
            raise SystemExit(f"line {start + 1}: a table without a 'Table N:' caption")
        rows = [(n + 1, [c.strip() for c in lines[n].strip().strip("|").split("|")]) for n in range(start, i)]
        yield m.group(1), rows


def main():
    paper = Path(sys.argv[1])
    lines = paper.read_text(encoding="utf-8").splitlines()
    values = []

    def add(table, line, row, column, text, std_text, unit, row_label, column_label):
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
            "source": f"{PAPER_FILE} line {line}: {table} ({CAPTION_CONTEXT[table]}), row \"{row_label}\", "
            f"column \"{column_label}\": {text}{' ± ' + std_text if std_text else ''}",
        }
        if std_text is not None:
            entry["std"] = float(std_text)
        values.append(entry)

    for table, rows in tables(lines):
        if table in ("Table 2", "Table 4"):
            for line, cells in rows:
                if not re.fullmatch(r"[a-z]{2}", cells[0]):
                    continue
                assert len(cells) == 11, (line, cells)
                for col, label, text in zip(PER_LANG_COLUMNS, PER_LANG_LABELS, cells[1:]):
                    add(table, line, cells[0], col, text, None, "fraction", cells[0], label)
        else:
            for line, cells in rows:
                label = cells[0]
                if not label or set(label) <= set("-"):
                    continue
                if table == "Table 6":
                    row, unit = DIAGNOSTICS[label]
                else:
                    row, unit = label, "fraction"
                assert len(cells) == 4, (line, cells)
                for head, head_label, cell in zip(HEADS, HEAD_LABELS, cells[1:]):
                    mean, std = [s.strip() for s in cell.split("±")]
                    add(table, line, row, head, mean, std, unit, label, head_label)

    out = {
        "paper": "D",
        "citation": "Di Iorio, Multilingual CLIP Alignment via Image Pivoting (Jan 2026)",
        "sourceFile": PAPER_FILE,
        "notes": [
            "Transcribed by data/paper/make_d_published.py; checked number by number against the paper's "
            "tables by tests/paper_test.ts.",
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
