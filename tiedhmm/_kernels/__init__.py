"""Numba kernels: pure functions of numpy arrays, with no validation and no Python
objects (the public wrapper above each validates once). One module per job: HMM
forward-backward and Viterbi (``hmm``), pair HMMs on the general state table (``pair``),
alignment paths (``paths``), emission tables and moments (``emissions``), composite
networks (``network``), consistency, profile alignment and k-mers for multiple
alignment. Each kernel's callees live in its own file (numba's cache keys on the file).

It imports only numpy and numba; everything else in tiedhmm may import it.
"""
