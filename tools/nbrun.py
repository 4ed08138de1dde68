#!/usr/bin/python3
"""Executes one notebook cell by cell with nbclient (Debian's python3-nbclient), stopping at the
first failing cell. Used by `deno task reproduce` (lib/runner/run_notebook.ts); not meant to be
called by hand.

usage: nbrun.py SRC.ipynb DST.ipynb KERNEL TIMEOUT_S
Writes the executed notebook (outputs included, up to the failing cell) to DST atomically and
prints one JSON line on stdout: {"ok": true, "cells": N} or {"ok": false, "cell": i, "code_cell": j,
"ename": ..., "evalue": ..., "source": ...}. Progress lines go to stderr.
"""
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def main() -> int:
    src, dst, kernel, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        allow_errors=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}},
    )
    status = {"ok": True, "cells": len(nb.cells)}
    code_index = 0
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                code_index += 1
                t0 = time.time()
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as err:
                    status = {"ok": False, "cell": index + 1, "code_cell": code_index,
                              "ename": err.ename, "evalue": err.evalue, "source": cell.source[:300]}
                    break
                except (CellTimeoutError, DeadKernelError) as err:
                    status = {"ok": False, "cell": index + 1, "code_cell": code_index,
                              "ename": type(err).__name__, "evalue": str(err).splitlines()[0] if str(err) else "",
                              "source": cell.source[:300]}
                    break
                print(f"  cell {index + 1}/{len(nb.cells)} done in {time.time() - t0:.1f}s",
                      file=sys.stderr, flush=True)
    except Exception as err:  # kernel could not start, etc.
        status = {"ok": False, "cell": 0, "code_cell": 0, "ename": type(err).__name__,
                  "evalue": str(err).splitlines()[0] if str(err) else "", "source": ""}
    tmp = f"{dst}.{os.getpid()}.tmp"
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    nbformat.write(nb, tmp)
    os.replace(tmp, dst)
    print(json.dumps(status), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
