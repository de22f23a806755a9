"""`make lab`: JupyterLab starts on the series, on the loopback address only, with this venv's Python as the
notebooks' kernel, serves the notebook list, and stops.

The server is the one `make lab` starts (tools/lab.py), on a free port, without a browser, with a token.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str | None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _listening_addresses(port: int) -> set[str]:
    """The local addresses listening on ``port``, from /proc/net/tcp{,6} (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_jupyterlab_is_installed():
    assert importlib.util.find_spec("jupyterlab") is not None, (
        "JupyterLab is missing from this Python: `make install` installs it (the dev extra brings the lab "
        "extra), or pip install -e '.[lab]'"
    )


def test_make_lab_runs_the_launcher(make_dry_run):
    made = make_dry_run("lab", "LAB_ARGS=--port 8899", "PY=python")
    assert "python tools/lab.py --port 8899" in made.stdout, made.stdout + made.stderr


def test_lab_serves_the_notebooks_on_loopback_then_stops(tmp_path):
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.fail("JupyterLab is not installed: pip install -e '.[lab]' (make install does)")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),  # nothing of the test in the user's folders
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    log = tmp_path / "lab.log"
    command = [
        sys.executable,
        str(ROOT / "tools" / "lab.py"),
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--no-browser",
        f"--IdentityProvider.token={token}",
    ]
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        listing, deadline = None, time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, body = _get(f"{base}/api/contents/notebooks", token)
                if status == 200:
                    listing = json.loads(body)
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert listing is not None, f"JupyterLab did not serve the notebooks:\n{log.read_text()}"

        names = {item["name"] for item in listing["content"]}
        committed = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert committed and committed <= names
        assert _get(f"{base}/api/contents/notebooks", None)[0] == 403  # the token is needed

        listening = _listening_addresses(port)
        if Path("/proc/net/tcp").exists():
            assert listening == {"0100007F"}, listening  # 127.0.0.1 only, no other interface

        status, body = _get(f"{base}/api/kernelspecs", token)
        specs = json.loads(body)
        assert specs["default"] == "python3"
        kernel = specs["kernelspecs"]["python3"]["spec"]["argv"][0]
        assert Path(kernel).absolute() == Path(sys.executable).absolute(), kernel  # this venv's Python

        request = urllib.request.Request(base + "/", method="GET")
        request.add_header("Authorization", f"token {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.url.startswith(f"{base}/lab/tree/notebooks")  # opened at the series

        assert _get(f"{base}/api/shutdown", token, method="POST")[0] == 200
        assert server.wait(timeout=30) == 0
        with pytest.raises(OSError):
            _get(f"{base}/api/status", token)  # nothing listens any more
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
