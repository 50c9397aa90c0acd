"""Numba kernels: pure functions of numpy arrays (no validation, no Python objects)."""
