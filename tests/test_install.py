"""How `make install` gets torch (tools/install_torch.py), and which Pythons the package declares.

Each branch of the rule with its probe replaced, and the real probes against servers on the loopback
address: a CPU index that answers, and one that accepts the connection and never answers, which must
fall back within seconds instead of hanging.
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import install_torch as it
import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = "torch==2.13.0"


def _never(*_):
    raise AssertionError("this probe should not have been asked")


def _main(*args, **probes):
    """tools/install_torch.py's main with probes replaced; the pip calls it would make, and its status."""
    calls: list[list[str]] = []
    fail_first = probes.pop("fail_first", False)

    def run(pip_args):
        calls.append(pip_args)
        return 1 if fail_first and len(calls) == 1 else 0

    status = it.main(list(args), run=run, **probes)
    return calls, status


# ---------------------------------------------------------------------------------------- the rule
def test_torch_already_installed_installs_nothing_and_asks_nothing_else(capsys):
    calls, status = _main(installed=lambda: True, gpu=_never, reachable=_never)
    assert calls == [] and status == 0
    assert "already installed" in capsys.readouterr().out


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
def test_macos_and_windows_use_the_default_index(system):
    calls, _ = _main(installed=lambda: False, system=lambda: system, gpu=_never, reachable=_never)
    assert calls == [[PIN]]


def test_linux_with_an_nvidia_gpu_uses_the_default_cuda_build():
    calls, _ = _main(installed=lambda: False, system=lambda: "Linux", gpu=lambda: True, reachable=_never)
    assert calls == [[PIN]]


def test_linux_without_a_gpu_uses_the_cpu_index_with_a_short_timeout():
    asked = []
    calls, _ = _main(
        "--cpu-index",
        "https://mirror.example/whl/cpu",
        installed=lambda: False,
        system=lambda: "Linux",
        gpu=lambda: False,
        reachable=lambda url: asked.append(url) or True,
    )
    assert asked == ["https://mirror.example/whl/cpu"]
    (args,) = calls
    assert args[:2] == ["--index-url", "https://mirror.example/whl/cpu"] and args[-1] == PIN
    assert "--timeout" in args and int(args[args.index("--timeout") + 1]) <= 30


def test_linux_without_a_gpu_and_an_unreachable_index_uses_the_plain_pin(capsys):
    calls, status = _main(
        installed=lambda: False, system=lambda: "Linux", gpu=lambda: False, reachable=lambda url: False
    )
    assert calls == [[PIN]] and status == 0
    assert "could not be reached" in capsys.readouterr().out


def test_pip_failing_on_the_cpu_index_falls_back_to_the_plain_pin():
    calls, status = _main(
        installed=lambda: False,
        system=lambda: "Linux",
        gpu=lambda: False,
        reachable=lambda url: True,
        fail_first=True,
    )
    assert calls[0][:1] == ["--index-url"] and calls[1:] == [[PIN]] and status == 0


def test_the_pin_comes_from_the_makefile(make_dry_run):
    calls, _ = _main("--pin", "torch==2.6.0", installed=lambda: False, system=lambda: "Darwin")
    assert calls == [["torch==2.6.0"]]
    made = make_dry_run("install", "VENV=/nonexistent/venv", "TORCH_PIN=torch==9.9")
    assert '/nonexistent/venv/bin/python tools/install_torch.py --pin "torch==9.9"' in made.stdout, (
        made.stdout + made.stderr
    )


def test_dry_run_here_reuses_the_installed_torch():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "install_torch.py"), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "already installed" in done.stdout and "nothing to install" in done.stdout


# ------------------------------------------------------------------------- the real probes, locally
@pytest.fixture()
def silent_server():
    """A TCP port on the loopback address that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/whl/cpu"
    server.close()


@pytest.fixture()
def index_server():
    """A loopback HTTP server where /whl/cpu/torch/ is a page, as on PyTorch's index."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path.rstrip("/") == "/whl/cpu/torch"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(
                b"<a href='torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl'>torch</a>" if found else b""
            )

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_index_that_never_answers_falls_back_within_seconds(silent_server, monkeypatch):
    monkeypatch.setattr(it, "PROBE_SECONDS", 1.0)
    start = time.monotonic()
    assert it.index_reachable(silent_server, seconds=1.0) is False
    calls, _ = _main(
        "--cpu-index",
        silent_server,
        installed=lambda: False,
        system=lambda: "Linux",
        gpu=lambda: False,
        reachable=lambda url: it.index_reachable(url, seconds=1.0),
    )
    assert calls == [[PIN]]
    assert time.monotonic() - start < 5


def test_a_refused_connection_falls_back_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    start = time.monotonic()
    assert it.index_reachable(f"http://127.0.0.1:{port}/whl/cpu", seconds=5) is False
    assert time.monotonic() - start < 2


def test_an_index_that_answers_is_used(index_server):
    assert it.index_reachable(f"{index_server}/whl/cpu") is True
    assert it.index_reachable(f"{index_server}/elsewhere") is False  # 404: not an index
    calls, _ = _main(
        "--cpu-index",
        f"{index_server}/whl/cpu",
        installed=lambda: False,
        system=lambda: "Linux",
        gpu=lambda: False,
    )
    assert calls[0][:2] == ["--index-url", f"{index_server}/whl/cpu"]


def _fake_smi(folder: Path, body: str) -> None:
    smi = folder / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\n{body}\n")
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)


@pytest.mark.skipif(os.name != "posix", reason="a shell-script nvidia-smi")
def test_gpu_probe(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    proc.mkdir()
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi yet
    assert it.nvidia_gpu(proc) is False
    (proc / "0000:00:1e.0").mkdir()
    assert it.nvidia_gpu(proc) is True
    empty = tmp_path / "none"
    _fake_smi(tmp_path, "echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)'")
    assert it.nvidia_gpu(empty) is True
    _fake_smi(
        tmp_path, "echo 'NVIDIA-SMI has failed because it could not communicate with the driver'; exit 9"
    )
    assert it.nvidia_gpu(empty) is False


# --------------------------------------------------------------------------------- Python versions
def test_declared_python_versions_are_the_tested_ones_named_in_the_readmes():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    assert declared and re.search(r'requires-python = ">=' + re.escape(declared[0]) + '"', text)
    tested = {
        "README.md": "tested on Python " + ", ".join(declared[:-1]) + " and " + declared[-1],
        "README.ko.md": "Python " + ", ".join(declared) + "에서 테스트했습니다",
    }
    for readme, sentence in tested.items():
        assert sentence in (ROOT / readme).read_text(encoding="utf-8").replace("\n", " "), readme


def test_ruff_refuses_modules_that_python_312_and_313_removed(tmp_path):
    code = tmp_path / "old.py"
    code.write_text(
        "import imp\nimport telnetlib\nfrom distutils.version import LooseVersion\n\nprint(imp, telnetlib, LooseVersion)\n"
    )
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--config",
            str(ROOT / "pyproject.toml"),
            str(code),
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 1
    assert lint.stdout.count("TID251") == 3, lint.stdout
