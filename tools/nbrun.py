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
import ctypes
import glob
import json
import os
import queue
import re
import signal
import subprocess
import sys
import time
import uuid

import nbformat
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpecManager
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


PR_SET_PDEATHSIG = 1


class Interrupted(Exception):
    """SIGINT/SIGTERM/SIGHUP, or the process that started this runner is gone."""


def set_parent_death_signal(sig: int) -> None:
    """Linux: deliver `sig` to this process when the thread that forked it exits."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the getppid() watchdog below still applies


PARENT_PID = os.getppid()


def check_parent() -> None:
    """Raises Interrupted when the runner's parent (`reproduce`) has died (we were re-parented)."""
    if os.getppid() != PARENT_PID:
        raise Interrupted("the parent process died")


def on_signal(signum, _frame):
    # the first signal interrupts; later ones (reproduce's SIGTERM after the group's SIGINT) must
    # not interrupt the handling of the first, which shuts the kernel down
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signal.Signals(signum).name)


class OwnedKernel:
    """The Deno kernel as a child of this runner, in this runner's process group (a signal to
    the run's group reaches it), killed by the OS if this runner dies (PR_SET_PDEATHSIG), and
    with its connection file deleted as soon as the client is connected (nothing is left in
    JUPYTER_RUNTIME_DIR, even after a SIGKILL)."""

    def __init__(self, kernel_name: str, cwd: str, startup_timeout: int):
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
        runtime = os.environ.get("JUPYTER_RUNTIME_DIR") or os.path.join(os.getcwd(), ".jupyter-runtime")
        os.makedirs(runtime, exist_ok=True)
        sweep_stale_connection_files(runtime)
        self.conn_file = os.path.join(runtime, f"kit-kernel-{os.getpid()}-{uuid.uuid4().hex[:8]}.json")
        write_connection_file(self.conn_file, ip="127.0.0.1", key=uuid.uuid4().hex.encode(),
                              kernel_name=kernel_name)
        argv = [a.replace("{connection_file}", self.conn_file) for a in spec.argv]
        env = {**os.environ, **spec.env, "JPY_PARENT_PID": str(os.getpid())}
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     preexec_fn=lambda: set_parent_death_signal(signal.SIGKILL))
        self.client = BlockingKernelClient(connection_file=self.conn_file)
        self.client.load_connection_file()
        self.client.start_channels()
        try:
            self.wait_for_ready(startup_timeout)
        finally:
            self.remove_connection_file()

    def wait_for_ready(self, timeout: int) -> None:
        """Sends kernel_info requests until one is answered (the kernel process must stay up)."""
        deadline = time.time() + timeout
        while True:
            msg_id = self.client.kernel_info()
            until = min(deadline, time.time() + 2)
            while time.time() < until:
                check_parent()
                if not self.is_alive():
                    raise RuntimeError(f"the kernel exited (code {self.proc.returncode}) while starting")
                try:
                    msg = self.client.get_shell_msg(timeout=0.2)
                except queue.Empty:
                    continue
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    # drain the startup IOPub traffic so cell outputs start clean
                    while True:
                        try:
                            self.client.get_iopub_msg(timeout=0.2)
                        except queue.Empty:
                            return
            if time.time() >= deadline:
                raise TimeoutError(f"the kernel did not answer within {timeout} s")

    def is_alive(self) -> bool:
        return self.proc.poll() is None

    def remove_connection_file(self) -> None:
        try:
            os.remove(self.conn_file)
        except FileNotFoundError:
            pass

    def shutdown(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.remove_connection_file()


def sweep_stale_connection_files(runtime: str) -> None:
    """Deletes connection files of earlier runners that are gone (killed before cleaning up)."""
    for path in glob.glob(os.path.join(runtime, "kit-kernel-*.json")):
        try:
            pid = int(os.path.basename(path).split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        except (ValueError, IndexError, PermissionError):
            pass


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def error_hints(traceback: list) -> list:
    """The advice lines of a KitError (URL, sha256, folder, command): the indented lines between
    the error's first line and its stack frames."""
    lines = ANSI.sub("", "\n".join(traceback)).split("\n")
    hints = []
    for line in lines[1:]:
        if re.match(r"^\s+at ", line):
            break
        if line.strip():
            hints.append(line.strip())
    return hints[:40]


def run_cell(kc, source: str, timeout: int, alive=lambda: True):
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
        check_parent()
        try:
            msg = kc.get_iopub_msg(timeout=0.05 if idle else 1)
        except queue.Empty:
            if not alive():
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
        check_parent()
        try:
            msg = kc.get_shell_msg(timeout=1)
        except queue.Empty:
            if time.time() > deadline:
                raise TimeoutError("no execute_reply from the kernel")
            if not alive():
                raise RuntimeError("the kernel died")
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            reply = msg["content"]
    error = None
    if reply.get("status") == "error":
        error = {"ename": reply.get("ename", "Error"), "evalue": reply.get("evalue", ""),
                 "hints": error_hints(reply.get("traceback", []))}
        if not any(o.get("output_type") == "error" for o in outputs):
            outputs.append(nbformat.v4.new_output("error", ename=error["ename"], evalue=error["evalue"],
                                                  traceback=reply.get("traceback", [])))
    return outputs, reply.get("execution_count"), error


def main() -> int:
    src, dst, kernel, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    # The runner dies with its parent (`reproduce`), and turns signals into a clean shutdown
    # that takes the kernel along.
    set_parent_death_signal(signal.SIGTERM)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    status = {"ok": True, "cells": len(nb.cells)}
    kernel_proc = None
    code = 0
    try:
        check_parent()
        kernel_proc = OwnedKernel(kernel, os.path.dirname(os.path.abspath(src)), 120)
        kc = kernel_proc.client
        code_index = 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            code_index += 1
            t0 = time.time()
            try:
                outputs, count, error = run_cell(kc, cell.source, timeout, kernel_proc.is_alive)
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
    except Interrupted as err:
        status = {"ok": False, "interrupted": True, "cell": 0, "code_cell": 0,
                  "ename": "Interrupted", "evalue": str(err), "source": ""}
        code = 130
    except Exception as err:  # the kernel could not start, etc.
        status = {"ok": False, "cell": 0, "code_cell": 0, "ename": type(err).__name__,
                  "evalue": str(err).splitlines()[0] if str(err) else "", "source": ""}
    finally:
        # no signal may interrupt the shutdown itself
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if kernel_proc is not None:
            kernel_proc.shutdown()
    relativize_outputs(nb)
    tmp = f"{dst}.{os.getpid()}.tmp"
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    nbformat.write(nb, tmp)
    os.replace(tmp, dst)
    try:
        print(json.dumps(status), flush=True)
    except BrokenPipeError:
        pass  # the parent is gone
    return code


if __name__ == "__main__":
    sys.exit(main())
