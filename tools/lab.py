"""Open the notebook series in JupyterLab on this machine (`make lab` runs it with the venv's Python).

    python tools/lab.py [JupyterLab options, e.g. --port 8899 --no-browser]

1. Installs the ``lab`` extra (JupyterLab) into this Python if it is missing.
2. Registers this Python as the kernel named ``python3``, the one the notebooks ask for, inside its own
   prefix (``.venv/share/jupyter/kernels/python3``): the notebooks run on the venv, with lmhelpers and
   torch as installed there, and nothing is written outside it (``JUPYTER_PREFER_ENV_PATH=1`` makes it win
   over a ``python3`` kernel in your home folder).
3. Starts JupyterLab on the checkout, listening on 127.0.0.1 only, opened at ``notebooks/``. Stop it with
   Ctrl-C (twice, or once and ``y``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "python3"  # the kernelspec name in every notebook's metadata
DISPLAY_NAME = "Python 3 (lmhelpers)"


def ensure_jupyterlab() -> None:
    if importlib.util.find_spec("jupyterlab") is None:
        print(f"JupyterLab is not installed in {sys.prefix}: installing the lab extra")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", f"{ROOT}[lab]"], check=True)


def register_kernel() -> None:
    """This Python as the ``python3`` kernel of its own environment (idempotent)."""
    command = [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL]
    done = subprocess.run([*command, "--display-name", DISPLAY_NAME], capture_output=True, text=True)
    if done.returncode != 0:  # e.g. a system Python's read-only prefix: ipykernel's own spec still serves
        print(f"could not register the kernel in {sys.prefix}:\n{done.stderr.strip()}", file=sys.stderr)


def lab_command(extra: list[str]) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={ROOT}",
        "--LabApp.default_url=/lab/tree/notebooks",
    ]
    # Jupyter refuses to run as root unless told; root is common in containers (and is what Colab uses),
    # and the server listens on the loopback address only, behind a token.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command + extra


def main(argv: list[str] | None = None) -> int:
    extra = sys.argv[1:] if argv is None else argv
    ensure_jupyterlab()
    register_kernel()
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"
    command = lab_command(extra)
    print("Starting JupyterLab on", ROOT / "notebooks", flush=True)
    if os.name == "posix":
        os.execv(sys.executable, command)  # JupyterLab takes this process: Ctrl-C and signals go to it
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
