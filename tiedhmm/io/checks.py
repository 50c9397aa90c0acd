"""Checks shared by the public entry points: sequence lengths, random states, memory."""

from __future__ import annotations

import contextlib
import numbers
import os
import re
import resource
from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import InvalidDataError, MemoryLimitError


def lengths_to_offsets(n_samples: int, lengths: Sequence[int] | np.ndarray | None
                       ) -> np.ndarray:
    """``(S + 1,)`` start offsets of sequences stored end to end, hmmlearn-style ``lengths``."""
    if lengths is None:
        lengths = [n_samples]
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise InvalidDataError(f"lengths must be a non-empty 1-D list of sequence lengths, "
                               f"got shape {lengths.shape}")
    if not np.issubdtype(lengths.dtype, np.integer) and (
            not np.all(np.isfinite(lengths)) or np.any(lengths != np.round(lengths))):
        raise InvalidDataError(f"lengths must be integers, got {lengths[:10]}")
    lengths = lengths.astype(np.int64)
    empty = np.flatnonzero(lengths <= 0)
    if empty.size:
        raise InvalidDataError(f"sequence {int(empty[0])} has length {lengths[empty[0]]}; "
                               f"sequences must not be empty")
    if lengths.sum() != n_samples:
        raise InvalidDataError(f"lengths sum to {int(lengths.sum())} but X has {n_samples} samples")
    return np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)


def check_random_state(seed: int | np.random.RandomState | None) -> np.random.RandomState:
    """A ``RandomState`` from None, an int or an existing ``RandomState`` (scikit-learn rule)."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral):
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise TypeError(f"random_state must be None, an int or a numpy RandomState, got {seed!r}")


def available_memory() -> int:
    """Bytes this process can still allocate: the machine's ``MemAvailable`` (Linux;
    else its physical memory), lowered by an address-space limit (``ulimit -v``) and by
    a cgroup v2 memory limit (containers), where either is set."""
    limits = [_machine_memory()]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        pages = _read_int("/proc/self/statm", 0) or 0
        limits.append(soft - pages * os.sysconf("SC_PAGE_SIZE"))
    cgroup_max = _read_int("/sys/fs/cgroup/memory.max", None)
    if cgroup_max is not None:
        limits.append(cgroup_max - (_read_int("/sys/fs/cgroup/memory.current", 0) or 0))
    return max(0, min(limits))


def _machine_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _read_int(path: str, default: int | None) -> int | None:
    """The first number in a small system file (``default`` if absent or ``max``)."""
    try:
        with open(path) as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


@contextlib.contextmanager
def memory_guard(what: str, instead: str) -> Iterator[None]:
    """Turn an allocation failure the estimate did not foresee (numba's "Allocation
    failed") into a MemoryLimitError that says what to do instead."""
    try:
        yield
    except MemoryLimitError:
        raise
    except MemoryError as error:
        raise MemoryLimitError(f"{what}: out of memory ({error}); {instead}") from None


def memory_size(n_bytes: int) -> str:
    """Bytes as a short size for messages: ``"1.5 GiB"``, ``"64 MiB"``."""
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_memory(memory: int | str) -> int:
    """Bytes from an int or a size such as ``"512M"``, ``"2GiB"``, ``"1.5 GB"`` (binary
    units either way)."""
    if isinstance(memory, numbers.Integral) and not isinstance(memory, bool):
        value = int(memory)
    elif isinstance(memory, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:I?B)?\s*", memory.upper())
        if match is None:
            raise InvalidDataError(f"memory must be bytes or a size such as '512M' or '2G', "
                                   f"got {memory!r}")
        value = int(float(match.group(1)) * _UNITS[match.group(2)])
    else:
        raise InvalidDataError(f"memory must be bytes or a size such as '512M' or '2G', "
                               f"got {memory!r}")
    if value <= 0:
        raise InvalidDataError(f"memory must be positive, got {memory!r}")
    return value
