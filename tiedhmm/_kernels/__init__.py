"""Numba kernels: pure functions of numpy arrays, with no validation and no Python
objects (the public wrapper above each validates once). One module per job: HMM
forward-backward and Viterbi (``hmm``), pair HMMs on the general state table (``pair``),
alignment paths (``paths``), emission tables and moments (``emissions``), composite
networks (``network``), consistency, profile alignment and k-mers for multiple
alignment. Each kernel's callees live in its own file (numba's cache keys on the file).

It imports only numpy and numba; everything else in tiedhmm may import it.
"""

import os

#: How long an OpenMP worker spins for more work before it sleeps, unless the user chose
#: a wait policy: spinning for ever (the OpenMP default under numba) makes threads that
#: share cores with other processes steal each other's time. See
#: :mod:`tiedhmm.parallel` for the measurements behind the choice.
SPIN_DEFAULTS = {"GOMP_SPINCOUNT": "3000",  # GNU OpenMP: a few microseconds
                 "KMP_BLOCKTIME": "0"}      # Intel OpenMP: sleep at once


def _set_wait_policy() -> None:
    """Set :data:`SPIN_DEFAULTS` before numba's threading layer starts (it reads them
    when it first runs a parallel kernel), unless the user set a wait policy or
    either variable."""
    if "OMP_WAIT_POLICY" in os.environ:
        return
    for name, value in SPIN_DEFAULTS.items():
        os.environ.setdefault(name, value)


_set_wait_policy()
