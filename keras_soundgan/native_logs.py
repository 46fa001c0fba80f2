"""Keeps the C++ log lines of TensorFlow, XLA and JAX off the command line's stderr.

TensorFlow writes lines such as ::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796052070.362916    7186 cudart_stub.cc:31] Could not find cuda drivers ...
    E0000 00:00:1796052401.539328   15093 cuda_platform.cc:52] failed call to cuInit: ...

straight to file descriptor 2 from C++, several of them before it reads
``TF_CPP_MIN_LOG_LEVEL`` (absl prints everything until ``absl::InitializeLog()``), so
no setting silences them. A user reads "E0000 ... failed" as "it broke".
:func:`filter_native_logs` puts a pipe in place of file descriptor 2 and a small
forked process behind it that passes every line on except those, so Python's own
messages, warnings and tracebacks still arrive, in order. Fatal lines (``F0000 ...``)
are kept. ``keras-soundgan --debug`` does not filter.

The filter is a process, not a thread, so that what was written before a crash (a
segmentation fault, a C++ ``abort``) still reaches the terminal.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import signal
import sys

__all__ = ["NATIVE_LOG_LINE", "is_native_log_line", "filter_native_logs"]

#: The lines dropped: absl/glog lines of severity INFO, WARNING and ERROR
#: (``I0000 00:00:1796052070.362916    7186 file.cc:31] ...``, and the older
#: ``2024-01-31 12:00:00.123456: I tensorflow/.../file.cc:31] ...``), absl's notice
#: that it is not initialised, and the second line of TensorFlow's CPU-feature notice.
NATIVE_LOG_LINE = re.compile(
    rb"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] \S+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    rb"STDERR\s*$"
    rb"|To enable the following instructions: .*rebuild TensorFlow with the appropriate "
    rb"compiler flags\.\s*$)")

# Written by the command when it ends: the filter answers once every line before it
# has been passed on, so nothing arrives after the shell's prompt.
_FLUSH = b"\x00keras-soundgan: flush\x00"
_state: dict = {}


def is_native_log_line(line: bytes | str) -> bool:
    """Whether ``line`` is one that :func:`filter_native_logs` drops."""
    if isinstance(line, str):
        line = line.encode("utf-8", "replace")
    return NATIVE_LOG_LINE.match(line) is not None


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data):]
        except InterruptedError:
            continue
        except OSError:  # the reader is gone (a closed pipe): drop, keep draining
            return


def _kept(data: bytes) -> tuple[bytes, bytes]:
    """``(what to pass on, the partial last line)`` of ``data``."""
    *lines, partial = data.split(b"\n")
    return b"".join(line + b"\n" for line in lines if not is_native_log_line(line)), partial


def _pump(source: int, target: int, ack: int) -> None:
    pending = b""
    while True:
        # A partial line (a prompt, a progress indicator) waits at most 0.2 s.
        ready, _, _ = select.select([source], [], [], 0.2 if pending else None)
        if not ready:
            if not is_native_log_line(pending):
                _write_all(target, pending)
            pending = b""
            continue
        chunk = os.read(source, 1 << 16)
        if not chunk:
            break
        data = pending + chunk
        while _FLUSH in data:  # everything before it goes out, then the answer
            before, data = data.split(_FLUSH, 1)
            kept, partial = _kept(before)
            _write_all(target, kept + (b"" if is_native_log_line(partial) else partial))
            _write_all(ack, b"x")
        kept, pending = _kept(data)
        _write_all(target, kept)
    if pending and not is_native_log_line(pending):
        _write_all(target, pending)


def filter_native_logs() -> bool:
    """Filters the native log lines out of this process's stderr from now on.

    Replaces file descriptor 2 (inherited by subprocesses and worker processes too)
    by a pipe read by a forked process, which writes every other line to the original
    stderr. At exit the original stderr comes back. Does nothing, and returns
    ``False``, where there is no ``os.fork`` (Windows), when ``sys.stderr`` is not file
    descriptor 2 (a test runner capturing it) or when it was already called.
    """
    if _state or not hasattr(os, "fork"):
        return False
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return False
    except (AttributeError, OSError, ValueError):
        return False
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    ack_read, ack_write = os.pipe()
    original = os.dup(2)
    pid = os.fork()
    if pid == 0:  # the filter: ends when every writer has closed the pipe
        try:
            # Ctrl-C and `timeout` signal the whole process group: the command
            # decides how to stop and still needs its stderr.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.close(write_end)
            os.close(ack_read)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            _pump(read_end, original, ack_write)
        finally:
            os._exit(0)
    os.close(read_end)
    os.close(ack_write)
    os.dup2(write_end, 2)
    os.close(write_end)
    _state.update(pid=pid, original=original, ack=ack_read)
    atexit.register(_restore)
    return True


def _restore() -> None:
    """Passes on what is still in the pipe, then gives file descriptor 2 back."""
    if not _state:
        return
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    _write_all(2, _FLUSH)
    ready, _, _ = select.select([_state["ack"]], [], [], 5.0)
    if ready:
        os.read(_state["ack"], 1)
    os.dup2(_state["original"], 2)
    os.close(_state["original"])
    os.close(_state["ack"])
    try:  # reap the filter if nothing else (a worker process) still holds the pipe
        os.waitpid(_state["pid"], os.WNOHANG)
    except ChildProcessError:
        pass
    _state.clear()
