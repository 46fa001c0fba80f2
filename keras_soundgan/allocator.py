"""Freed memory kept for the next step: glibc's ``malloc`` settings for PyTorch on a CPU.

A training step allocates and frees tensors of the same sizes every time. GNU libc's
``malloc`` hands large freed blocks back to the operating system (blocks above its
``mmap`` threshold are unmapped, and a heap whose free top grows past the trim
threshold is trimmed), so the next step's tensors are faulted in again, page by page.
PyTorch's CPU performance guide suggests another allocator (jemalloc, tcmalloc) for
this; :func:`keep_freed_memory` does it with glibc's own ``mallopt``: blocks up to
32 MiB (glibc's ceiling for the threshold on 64-bit systems) come from the heap, and
the heap is not trimmed, so freed memory is reused.

Measured on 2 cores of an AMD EPYC (2026-12-07, one thread, the narrowed ``specgan``
step of ``benchmarks/backends.py``, Keras and plain PyTorch taking turns in one
process, median of 4 steps): with it, Keras on PyTorch's step took 2.40 s instead of
2.67 s and faulted in 3 thousand pages instead of 90 thousand; plain PyTorch's 2.40 s
instead of 2.44 s (no faults instead of 55 thousand). ``python benchmarks/backends.py
--contenders plain-torch,torch,torch-kept-memory`` compares them in separate
processes. The command line calls it on the PyTorch backend; TensorFlow and JAX were
not faster with it.

The cost: a process keeps the memory of its largest step until it ends, which a
training process reaches every step anyway. Over 16 steps of that model at batch 32 the
resident memory stayed at 680 MiB with it, against 633-653 MiB (a peak of 685 MiB)
without.

Example:

>>> import platform
>>> from keras_soundgan.allocator import keep_freed_memory
>>> keep_freed_memory() == (platform.libc_ver()[0] == "glibc")
True
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory"]

# mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2).
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
_NEVER_TRIM = 2**31 - 1  # mallopt takes an int


def keep_freed_memory() -> bool:
    """Has this process's ``malloc`` keep freed blocks of up to 32 MiB for reuse.

    Call it before the first training step (the command line does, on the PyTorch
    backend). It changes the C library's settings for the whole process, so it is not
    called by the package's Python API itself.

    Returns:
        bool. True where set (Linux with GNU libc); False where the C library has no
        such setting (macOS, Windows, musl), which changes nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Setting either one turns off glibc's own adjustment of both, so both are set.
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
                and mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
