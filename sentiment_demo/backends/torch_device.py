"""Device, precision, thread count and memory for torch backends: resolved once, at start-up."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import torch

from sentiment_demo.errors import ModelLoadError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cpu_supports_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU has native bfloat16 instructions (AVX-512 BF16 or AMX), where bf16 is fast."""
    try:
        flags = cpuinfo.read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_device(requested: str) -> str:
    """`auto` becomes cuda, then mps, then cpu; an explicit device that is missing is an error."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda" and not cuda:
        raise ModelLoadError(
            "device cuda was requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}). Use --device cpu, or install a CUDA build of torch."
        )
    if requested == "mps" and not mps:
        raise ModelLoadError("device mps was requested but is not available. Use --device cpu.")
    return requested


def resolve_dtype(requested: str, device: str) -> torch.dtype:
    """`auto`: float16 on CUDA, bfloat16 on CPUs with native bf16, float32 otherwise."""
    if requested == "auto":
        if device == "cuda":
            return torch.float16
        if device == "cpu" and cpu_supports_bf16():
            return torch.bfloat16
        return torch.float32
    if requested == "float16" and device == "cpu":
        raise ModelLoadError(
            "float16 on the CPU is slow and unsupported by many kernels; use --dtype bfloat16 or "
            "float32 on cpu, float16 on cuda."
        )
    return DTYPES[requested]


def resolve_threads(requested: int) -> int:
    """0 means one thread per core, measured fastest under load in bench/.

    A core that another process keeps busy makes a thread wait; set 1 on such machines.
    """
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


def available_memory(device: str) -> int:
    """Bytes free for a model on `device`: free GPU memory on cuda, available RAM otherwise."""
    if device == "cuda":
        return int(torch.cuda.mem_get_info()[0])
    return int(psutil.virtual_memory().available)


def used_memory(device: str) -> int:
    """Bytes this process holds on `device`: GPU allocations on cuda, resident memory otherwise."""
    if device == "cuda":
        return int(torch.cuda.memory_allocated())
    return int(psutil.Process().memory_info().rss)
