"""The `rnnscope` command.

    rnnscope [STREAMLIT OPTIONS]   start the app (e.g. --server.port 8502)
    rnnscope train ...             train a model (rnnscope train --help)
    rnnscope eval ...              evaluate bundled or trained models (rnnscope eval --help)
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# The settings the app needs wherever it is started from; later options override them.
APP_FLAGS = [
    "--browser.gatherUsageStats", "false",  # no telemetry: the browser would try to reach the internet
    "--server.address", "localhost",
    "--server.headless", "true",
    "--runner.postScriptGC", "false",  # a post-run gc.collect costs ~75 ms per rerun once torch is loaded
    "--client.toolbarMode", "minimal",  # no "Deploy" button on a local teaching tool
    "--client.showErrorDetails", "none",  # a traceback would show server paths; the views say what went wrong
    "--server.maxUploadSize", "50",  # MB, as viz_app.sources.MAX_UPLOAD_MB: larger uploads are refused unread
]
# The environment the server starts with, unless the caller's sets these. One BLAS thread
# per process: the app's matrices are small, and sessions run side by side, so OpenBLAS's
# worker threads would only wait on each other (see docs/APP.md, "BLAS threads"). Two glibc
# malloc arenas: every script run is a thread of its own, and with an arena per thread
# (up to 16 on two cores) what a class freed stayed scattered over them; after fifty tabs
# the server kept 31 MB above its baseline, with two arenas 9 MB (docs/CLASSROOM.md).
APP_ENV = {"OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


def app_path() -> Path:
    spec = importlib.util.find_spec("viz_app")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("rnnscope: the viz_app package is not installed; run `pip install -e .` in the repository")
    return Path(next(iter(spec.submodule_search_locations))) / "app.py"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    if argv[:1] == ["train"]:
        from .train import main as train

        return train(argv[1:])
    if argv[:1] == ["eval"]:
        from .evaluate import main as evaluate

        return evaluate(argv[1:])
    if argv[:1] == ["app"]:
        argv = argv[1:]
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path()), *APP_FLAGS, *argv]
    os.execve(sys.executable, cmd, {**APP_ENV, **os.environ})  # the server takes this process (and its PID) over


if __name__ == "__main__":
    main()
