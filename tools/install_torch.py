"""Install torch into the running Python the way `make install` should, and never hang doing it.

    python tools/install_torch.py [--pin torch==2.13.0] [--cpu-index URL] [--dry-run]

The rule, decided by ``plan()`` from facts that ``probe()`` gathers (each one a function the tests replace):

1. torch already importable (Colab, a conda env, a venv made with --system-site-packages): install nothing.
2. not Linux (macOS, Windows): the pin from the default index, which has no CUDA build to pull there.
3. Linux with an NVIDIA GPU (``nvidia-smi -L`` lists one, or /proc/driver/nvidia/gpus has one): the pin
   from the default index, the CUDA build.
4. Linux without one: the pin from PyTorch's CPU wheel index (a few hundred MB instead of gigabytes of
   CUDA and cuDNN wheels), if that index answers within a few seconds; pip gets a short ``--timeout``.
5. That index unreachable, or pip failing on it: the plain pin, as in 3 (a local wheel, a mirror or a
   pip configuration then serves it, as on the CI machines here).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PIN = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_SECONDS = 5.0  # how long the CPU index may take to answer before we fall back
PIP_TIMEOUT = "20"  # pip's socket timeout, seconds, on the CPU index


@dataclass(frozen=True)
class Facts:
    torch_installed: bool
    system: str  # platform.system(): "Linux", "Darwin", "Windows"
    nvidia_gpu: bool
    cpu_index_reachable: bool | None  # None: not asked (the answer could not change the plan)


@dataclass(frozen=True)
class Plan:
    reason: str
    pip_args: list[str] | None  # arguments after `pip install`; None: install nothing
    fallback: list[str] | None = None  # tried when the first pip call fails


# ------------------------------------------------------------------------------------------ probes
def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def nvidia_gpu(proc: Path = Path("/proc/driver/nvidia/gpus")) -> bool:
    """An NVIDIA GPU with its driver: ``nvidia-smi -L`` lists one, or the driver's /proc folder has one."""
    try:
        if proc.is_dir() and any(proc.iterdir()):
            return True
    except OSError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def index_reachable(url: str, seconds: float = PROBE_SECONDS) -> bool:
    """Whether ``url``/torch/ answers with a page within ``seconds`` in all (DNS included).

    The request runs in a daemon thread so that no step of it (a resolver that never answers, a
    firewall that drops packets, a server that accepts and stays silent) can hold us past ``seconds``.
    """
    answer: list[bool] = []

    def ask() -> None:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/torch/", timeout=seconds) as response:
                answer.append(200 <= response.status < 300)
        except Exception:
            answer.append(False)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(answer and answer[0])


def probe(
    cpu_index: str = CPU_INDEX,
    *,
    installed: Callable[[], bool] = torch_installed,
    system: Callable[[], str] = platform.system,
    gpu: Callable[[], bool] = nvidia_gpu,
    reachable: Callable[[str], bool] = index_reachable,
) -> Facts:
    """The facts the plan needs, asking only what can change it (no network call when torch is there)."""
    if installed():
        return Facts(True, system(), False, None)
    name = system()
    if name != "Linux":
        return Facts(False, name, False, None)
    if gpu():
        return Facts(False, name, True, None)
    return Facts(False, name, False, reachable(cpu_index))


# -------------------------------------------------------------------------------------------- rule
def plan(facts: Facts, pin: str = PIN, cpu_index: str = CPU_INDEX) -> Plan:
    if facts.torch_installed:
        return Plan("torch is already installed: it is reused and nothing replaces it", None)
    if facts.system != "Linux":
        return Plan(f"{facts.system}: the default index has no CUDA build to pull here", [pin])
    if facts.nvidia_gpu:
        return Plan("an NVIDIA GPU is present: the default (CUDA) build", [pin])
    if facts.cpu_index_reachable:
        return Plan(
            f"no NVIDIA GPU: the CPU build from {cpu_index}",
            ["--index-url", cpu_index, "--timeout", PIP_TIMEOUT, "--retries", "1", pin],
            fallback=[pin],
        )
    return Plan(
        f"no NVIDIA GPU, but {cpu_index} could not be reached (tried for up to {PROBE_SECONDS:g} s): "
        f"{pin} as pip is configured (a local wheel or mirror, else the default index)",
        [pin],
    )


def pip_install(args: list[str]) -> int:
    # Not -q: the download of torch is the long part of an install, and pip's progress bar shows it.
    return subprocess.run([sys.executable, "-m", "pip", "install", *args]).returncode


def install(the_plan: Plan, run: Callable[[list[str]], int] = pip_install, log=print) -> int:
    """Carry out ``the_plan``; the exit status of the last pip call (0 when nothing was needed)."""
    log(f"torch: {the_plan.reason}")
    if the_plan.pip_args is None:
        return 0
    log(f"torch: pip install {' '.join(the_plan.pip_args)}")
    status = run(the_plan.pip_args)
    if status != 0 and the_plan.fallback is not None:
        log(
            f"torch: that failed (pip exit {status}); falling back to pip install {' '.join(the_plan.fallback)}"
        )
        status = run(the_plan.fallback)
    return status


def main(argv: list[str] | None = None, **probes) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pin", default=PIN, help=f"the torch requirement (default {PIN})")
    parser.add_argument(
        "--cpu-index", default=CPU_INDEX, help=f"PyTorch's CPU wheel index (default {CPU_INDEX})"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the decision and the pip command only")
    args = parser.parse_args(argv)
    run = probes.pop("run", pip_install)
    start = time.monotonic()
    the_plan = plan(probe(args.cpu_index, **probes), args.pin, args.cpu_index)
    if args.dry_run:
        print(f"torch: {the_plan.reason}")
        print("pip install " + " ".join(the_plan.pip_args) if the_plan.pip_args else "nothing to install")
        return 0
    status = install(the_plan, run)
    print(
        f"torch: done in {time.monotonic() - start:.0f} s" if status == 0 else f"torch: pip failed ({status})"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
