"""Starts Debian's classic Jupyter Notebook server for `./kit task notebook`
(lib/setup/notebook_server.ts) so that it cannot outlive the kit or leak its token:

  serve_notebooks.py PARENT_PID [notebook options ...]

- its own session (a Ctrl-C in the terminal reaches the kit, which stops the server);
- a parent-death signal (SIGTERM when the kit dies, even by SIGKILL), and an exit at start when
  the kit (PARENT_PID) is already gone; on SIGTERM/SIGHUP the server shuts its kernels down;
- umask 077, so the runtime files (nbserver-*.json, *-open.html: they hold the token) are private;
  the kernels get the caller's umask back, so their caches and artifacts keep their usual modes;
- the token arrives in JUPYTER_TOKEN, is removed from the environment (the kernels inherit it)
  and given to the server as an option inside this process (not on a visible command line).
"""

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = int(sys.argv[1])
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux
    if os.getppid() != parent:
        sys.exit("serve_notebooks: the kit process is gone; not starting the server")
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader
    # Closing the terminal: stop as on SIGTERM (the notebook server then shuts its kernels down).
    signal.signal(signal.SIGHUP, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    caller_umask = os.umask(0o077)

    class CallerUmaskPopen(subprocess.Popen):
        """Kernels start with the caller's umask, not the server's 077."""

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("umask", caller_umask)
            super().__init__(*args, **kwargs)

    subprocess.Popen = CallerUmaskPopen  # before jupyter_client imports it
    token = os.environ.pop("JUPYTER_TOKEN", "")
    os.environ.pop("JUPYTER_TOKEN_FILE", None)
    args = sys.argv[2:]
    if token:
        args.append(f"--NotebookApp.token={token}")
    sys.argv = ["jupyter-notebook", *args]
    from notebook.notebookapp import main as notebook_main

    sys.exit(notebook_main())


if __name__ == "__main__":
    main()
