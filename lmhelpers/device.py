"""Device choice, mixed-precision policy and an environment report for notebook 00."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from .language import message, tr


class DeviceError(RuntimeError):
    """The requested device is not available here; the message says what to choose instead."""


def pick_device(preference: str = "auto") -> torch.device:
    """cuda, then mps, then cpu for 'auto'; an explicit choice must exist or a DeviceError is raised."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            tr(
                "device='cuda' was requested but no CUDA GPU is visible. Use device='auto' (falls back to the "
                "CPU) or, on Colab, choose Runtime > Change runtime type > T4 GPU and run again."
            )
        )
    if preference == "mps" and not _mps_available():
        raise DeviceError(
            tr("device='mps' was requested but Apple's MPS backend is not available; use 'auto'.")
        )
    if preference not in ("cpu", "cuda", "mps"):
        raise DeviceError(
            tr("unknown device {device!r}; choose 'auto', 'cpu', 'cuda' or 'mps'", device=preference)
        )
    return torch.device(preference)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def autocast_dtype(device: torch.device, requested: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``device``, or None for plain float32.

    'auto' means bf16 where the GPU does it natively (Ampere and newer), fp16 on older GPUs such as
    Colab's T4 (which then needs a gradient scaler), and nothing on CPU/MPS, where autocast buys
    little for these model sizes and would blur the CPU timings.
    """
    if requested == "float32":
        return None
    if requested == "bfloat16":
        return torch.bfloat16
    if requested == "float16":
        return torch.float16
    if device.type != "cuda":
        return None
    return torch.bfloat16 if bf16_native() else torch.float16


def bf16_native() -> bool:
    """True on GPUs with bf16 tensor cores (compute capability 8.0+), not merely emulated bf16."""
    if not torch.cuda.is_available():
        return False
    return torch.cuda.get_device_capability()[0] >= 8


def autocast_context(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """``torch.autocast`` for the device, or a no-op when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def needs_grad_scaler(dtype: torch.dtype | None) -> bool:
    """fp16 has too little exponent range for small gradients; bf16 and fp32 do not need scaling."""
    return dtype == torch.float16


def configure_backends(device: torch.device) -> None:
    """Allow TF32 matmuls and convolutions on Ampere+ GPUs (float32 accuracy is not needed there);
    on the CPU, keep freed activation memory in the process (see :func:`keep_freed_memory`)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    elif device.type == "cpu":
        keep_freed_memory()


_MALLOC_TUNED = False


def keep_freed_memory(mmap_threshold: int = 256 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Make glibc's malloc reuse freed activation buffers instead of returning them to the kernel.

    PyTorch's CPU allocator is plain malloc. By default glibc serves large blocks (from 128 KiB, rising
    adaptively) with fresh ``mmap`` pages and trims freed heap memory back to the kernel, so each
    training step page-faults its activations in again: ~1,600 faults per step for a 4-layer,
    128-wide model at batch 12 x 64 on 2 cores, about 7% of the step. Serving blocks below
    ``mmap_threshold`` from the heap and trimming only above ``trim_threshold`` makes the memory of
    one step the memory of the next. Linux with glibc only; returns whether the setting was applied.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from <malloc.h>
        # Some glibc versions cap the mmap threshold at 32 MiB (and refuse more): fall back to it.
        ok = any(libc.mallopt(m_mmap_threshold, v) == 1 for v in (mmap_threshold, 32 << 20))
        ok = libc.mallopt(m_trim_threshold, trim_threshold) == 1 and ok
    except (OSError, AttributeError):
        return False
    _MALLOC_TUNED = ok
    return ok


def environment_report(device: torch.device | None = None) -> dict[str, Any]:
    """What this runtime is: versions, device, GPU memory and capability. Stored in every run record."""
    device = device or pick_device("auto")
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device.type,
        "device_name": cpu_name(),
        "cpu": cpu_name(),
        "cuda_available": torch.cuda.is_available(),
        "mps_available": _mps_available(),
        "on_colab": on_colab(),
    }
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        report.update(
            device_name=props.name,
            gpu_memory_gb=round(props.total_memory / 2**30, 1),
            capability=f"{props.major}.{props.minor}",
            cuda=torch.version.cuda,
            bf16_native=bf16_native(),
        )
    dtype = autocast_dtype(device)
    report["autocast_dtype"] = str(dtype).replace("torch.", "") if dtype else "float32"
    return report


def cpu_name() -> str:
    """The CPU model as /proc/cpuinfo names it, with its widest vector instructions (e.g. 'AMD EPYC 7B13
    (AVX2)'): run times are only comparable on the same kind of CPU, so every record and benchmark names
    it, and the instruction set is what sets a CPU's float32 peak."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "")
    flags = set(next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), []))
    isa = [name for flag, name in (("avx512f", "AVX-512"), ("amx_tile", "AMX")) if flag in flags]
    isa = isa or (["AVX2"] if "avx2" in flags else [])
    label = model or platform.processor() or platform.machine()
    return f"{label} ({' + '.join(isa)})" if isa else label


def on_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def recommend_preset(report: dict[str, Any]) -> tuple[str, str]:
    """The preset that fits this runtime, with the reason, for notebook 00: on a CUDA GPU the largest
    preset whose ``gpu_memory_gb`` it has, elsewhere the default CPU preset."""
    from .config import DEFAULT_PRESET, PRESETS

    if report["device"] == "cuda":
        memory, device = report.get("gpu_memory_gb", 0), report["device_name"]
        fits = [n for n, p in PRESETS.items() if p.gpu_memory_gb is not None and p.gpu_memory_gb <= memory]
        if fits:
            name = fits[-1]
            why = message(
                "recommend_fits", device=device, memory=memory, name=name, purpose=PRESETS[name].purpose
            )
            return name, why
        return DEFAULT_PRESET, message("recommend_small", device=device, memory=memory, name=DEFAULT_PRESET)
    key = "recommend_mps" if report["device"] == "mps" else "recommend_cpu"
    return DEFAULT_PRESET, message(key, name=DEFAULT_PRESET)
