#!/usr/bin/python3
"""Executes one notebook cell by cell in a Jupyter kernel (Debian's python3-jupyter-client),
stopping at the first failing cell. Used by `deno task reproduce` (lib/runner/run_notebooks.ts);
not meant to be called by hand.

usage: nbrun.py SRC.ipynb DST.ipynb KERNEL TIMEOUT_S
Writes the executed notebook (outputs included, up to the failing cell) to DST atomically and
prints one JSON line on stdout: {"ok": true, "cells": N} or {"ok": false, "cell": i, "code_cell": j,
"ename": ..., "evalue": ..., "source": ...}. Progress lines go to stderr.

Why not nbclient/nbconvert: with the Deno kernel they lose outputs at random (about half of the
runs lost some stream/display/result messages in our measurements): the Deno kernel may publish
a cell's outputs just after its "idle" status, and they stop reading at "idle". This client keeps
reading IOPub until it has been quiet for a moment after "idle".
"""
import json
import os
import queue
import sys
import time

import nbformat
from jupyter_client.manager import start_new_kernel
from nbformat.v4 import output_from_msg


SETTLE_SECONDS = 0.3
# The project's root: tools/nbrun.py lives in <root>/tools.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def path_prefixes():
    """(absolute prefix, replacement) pairs, longest first: the project root becomes a path
    relative to it, its parent "../" (a sibling such as ../shared/data), the home folder "~"."""
    pairs = {}
    for root in {PROJECT_ROOT, os.path.realpath(PROJECT_ROOT)}:
        pairs[root] = "."
        parent = os.path.dirname(root)
        if parent not in ("/", ""):
            pairs.setdefault(parent, "..")
    home = os.environ.get("HOME", "")
    if home not in ("/", "") and os.path.isabs(home):
        pairs.setdefault(home.rstrip("/"), "~")
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def relativize(text: str, prefixes) -> str:
    """Replaces machine-specific absolute path prefixes in printed text (see path_prefixes):
    "<root>/figures/x" -> "figures/x", "<root>" alone -> ".", "<parent>/shared" -> "../shared",
    "<home>/x" -> "~/x". A prefix counts only where a path component ends."""
    for prefix, repl in prefixes:
        if prefix not in text:
            continue
        out, i = [], 0
        while True:
            j = text.find(prefix, i)
            if j < 0:
                out.append(text[i:])
                break
            end = j + len(prefix)
            nxt = text[end:end + 1]
            before = text[j - 1:j] if j > 0 else ""
            starts = before == "" or not (before.isalnum() or before in "_-./~")
            ends = nxt == "" or not (nxt.isalnum() or nxt in "_-.")
            if starts and ends:
                out.append(text[i:j])
                rest = text[end + 1:end + 2]
                if repl == "." and nxt == "/" and rest != "" and not rest.isspace():
                    end += 1  # "<root>/x" -> "x"
                else:
                    out.append(repl)
                i = end
            else:
                out.append(text[i:end])
                i = end
        text = "".join(out)
    return text


def relativize_outputs(nb) -> None:
    """Rewrites absolute paths in every text output of `nb` (images are left alone), so an
    executed notebook reads the same in every clone."""
    prefixes = path_prefixes()
    fix = lambda v: relativize(v, prefixes) if isinstance(v, str) else \
        [relativize(x, prefixes) if isinstance(x, str) else x for x in v] if isinstance(v, list) else v
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = fix(out["text"])
            for key in ("evalue", "traceback"):
                if key in out:
                    out[key] = fix(out[key])
            data = out.get("data", {})
            for mime in list(data):
                if mime.startswith("text/") or mime == "image/svg+xml":
                    data[mime] = fix(data[mime])
# Kernel stderr (progress bars, warnings) is echoed to this runner's stderr unless KIT_QUIET=1.
ECHO_STDERR = os.environ.get("KIT_QUIET", "0") != "1"


def run_cell(kc, source: str, timeout: int):
    """Executes `source`; returns (outputs, execution_count, error dict or None)."""
    msg_id = kc.execute(source, store_history=True, stop_on_error=True, allow_stdin=False)
    outputs = []
    display_index = {}
    deadline = time.time() + timeout
    idle = False
    quiet_since = None
    # The Deno kernel can publish a cell's outputs just *after* its idle status (it uses
    # separate internal channels), so keep reading until IOPub has been quiet for a moment.
    while not idle or quiet_since is None or time.time() - quiet_since < SETTLE_SECONDS:
        if time.time() > deadline:
            raise TimeoutError(f"cell did not finish within {timeout} s")
        try:
            msg = kc.get_iopub_msg(timeout=0.05 if idle else 1)
        except queue.Empty:
            if not kc.is_alive():
                raise RuntimeError("the kernel died")
            if idle and quiet_since is None:
                quiet_since = time.time()
            continue
        quiet_since = None
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "status":
            idle = idle or content.get("execution_state") == "idle"
        elif kind == "clear_output":
            outputs.clear()
        elif kind == "update_display_data":
            did = content.get("transient", {}).get("display_id")
            if did in display_index:
                outputs[display_index[did]] = output_from_msg({**msg, "msg_type": "display_data"})
        elif kind in ("stream", "display_data", "execute_result", "error"):
            out = output_from_msg(msg)
            if kind == "stream" and content.get("name") == "stderr" and ECHO_STDERR:
                # progress bars and warnings: show them live, not only in the executed notebook
                for line in content.get("text", "").splitlines():
                    print(f"    {line}", file=sys.stderr, flush=True)
            if kind == "stream" and outputs and outputs[-1].get("output_type") == "stream" \
                    and outputs[-1].get("name") == out.get("name"):
                outputs[-1]["text"] += out["text"]
                continue
            did = content.get("transient", {}).get("display_id")
            if did:
                display_index[did] = len(outputs)
            outputs.append(out)
    reply = None
    while reply is None:
        try:
            msg = kc.get_shell_msg(timeout=max(1, deadline - time.time()))
        except queue.Empty:
            raise TimeoutError("no execute_reply from the kernel")
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            reply = msg["content"]
    error = None
    if reply.get("status") == "error":
        error = {"ename": reply.get("ename", "Error"), "evalue": reply.get("evalue", "")}
        if not any(o.get("output_type") == "error" for o in outputs):
            outputs.append(nbformat.v4.new_output("error", ename=error["ename"], evalue=error["evalue"],
                                                  traceback=reply.get("traceback", [])))
    return outputs, reply.get("execution_count"), error


def main() -> int:
    src, dst, kernel, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    status = {"ok": True, "cells": len(nb.cells)}
    km = kc = None
    try:
        km, kc = start_new_kernel(kernel_name=kernel, cwd=os.path.dirname(os.path.abspath(src)),
                                  startup_timeout=120)
        code_index = 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            code_index += 1
            t0 = time.time()
            try:
                outputs, count, error = run_cell(kc, cell.source, timeout)
            except (TimeoutError, RuntimeError) as err:
                status = {"ok": False, "cell": index + 1, "code_cell": code_index,
                          "ename": type(err).__name__, "evalue": str(err), "source": cell.source[:300]}
                break
            cell.outputs, cell.execution_count = outputs, count
            if error:
                status = {"ok": False, "cell": index + 1, "code_cell": code_index, **error,
                          "source": cell.source[:300]}
                break
            print(f"  cell {index + 1}/{len(nb.cells)} done in {time.time() - t0:.1f}s",
                  file=sys.stderr, flush=True)
    except Exception as err:  # the kernel could not start, etc.
        status = {"ok": False, "cell": 0, "code_cell": 0, "ename": type(err).__name__,
                  "evalue": str(err).splitlines()[0] if str(err) else "", "source": ""}
    finally:
        if kc is not None:
            kc.stop_channels()
        if km is not None:
            km.shutdown_kernel(now=True)
    relativize_outputs(nb)
    tmp = f"{dst}.{os.getpid()}.tmp"
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    nbformat.write(nb, tmp)
    os.replace(tmp, dst)
    print(json.dumps(status), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
