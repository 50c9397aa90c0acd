"""Speech features: deltas (core) and MFCCs from WAV files (the ``[speech]`` extra).

``mfcc_from_wav`` reproduces the features of the shared Free Spoken Digit Dataset file:
13 MFCCs per 25 ms window with a 10 ms step, 26 mel filters, a 512-point FFT,
pre-emphasis 0.97, cepstral lifter 22, c0 replaced by the log frame energy, and the
per-utterance mean subtracted. It needs ``python_speech_features``
(``pip install "tiedhmm[speech]"``); WAV files are read with SciPy.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from ..errors import InvalidDataError


def deltas(features: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas of features, with edge frames repeated (the HTK formula).

    ``d[t] = sum_k k (c[t+k] - c[t-k]) / (2 sum_k k^2)`` for ``k = 1 .. width``.

    Parameters
    ----------
    features : array of shape (T, D)
        One utterance's features.
    width : int, default 2
        Frames on each side.

    Returns
    -------
    ndarray of shape (T, D)
        The deltas.

    Examples
    --------
    >>> import numpy as np
    >>> from tiedhmm.speech import deltas
    >>> deltas(np.arange(6.0)[:, None]).ravel().tolist()
    [0.5, 0.8, 1.0, 1.0, 0.8, 0.5]
    """
    features = np.asarray(features, dtype=float)
    if features.ndim != 2 or features.shape[0] == 0:
        raise InvalidDataError(f"features must be a non-empty (T, D) array, got {features.shape}")
    padded = np.pad(features, ((width, width), (0, 0)), mode="edge")
    n = features.shape[0]
    total = sum(k * (padded[width + k:width + k + n] - padded[width - k:width - k + n])
                for k in range(1, width + 1))
    found: np.ndarray = total / (2 * sum(k * k for k in range(1, width + 1)))
    return found


def with_deltas(X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Append per-utterance deltas to features stored end to end.

    Parameters
    ----------
    X : array of shape (n_frames, D)
        Frames of all utterances, end to end.
    lengths : array of int
        Frames per utterance (hmmlearn's convention).

    Returns
    -------
    ndarray of shape (n_frames, 2 D)
        Each frame's features, then their deltas within its utterance.

    Examples
    --------
    >>> import numpy as np
    >>> from tiedhmm.speech import with_deltas
    >>> with_deltas(np.zeros((10, 3)), np.array([4, 6])).shape
    (10, 6)
    """
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    return np.concatenate([np.hstack([X[a:b], deltas(X[a:b])])
                           for a, b in pairwise(offsets)])


def mfcc_from_wav(path: str | Path) -> np.ndarray:
    """Mean-normalised MFCCs of a mono WAV file (see :mod:`tiedhmm.speech.features`).

    Parameters
    ----------
    path : str or pathlib.Path
        The WAV file.

    Returns
    -------
    ndarray of shape (T, 13)
        One row per 10 ms frame.

    Raises
    ------
    tiedhmm.errors.InvalidDataError
        A recording that is empty or not mono.
    FileNotFoundError
        No such file.
    ImportError
        python_speech_features is not installed (``pip install "tiedhmm[speech]"``).
    """
    try:
        from python_speech_features import mfcc
    except ImportError:
        raise ImportError("MFCC extraction needs the speech extra: "
                          "pip install 'tiedhmm[speech]'") from None
    from scipy.io import wavfile
    rate, signal = wavfile.read(path)
    if signal.ndim != 1:
        raise InvalidDataError(f"{path}: expected mono audio, got {signal.shape[1]} channels")
    if signal.size == 0:
        raise InvalidDataError(f"{path}: the recording is empty")
    features = mfcc(signal.astype(float), samplerate=rate, winlen=0.025, winstep=0.01,
                    numcep=13, nfilt=26, nfft=512, preemph=0.97, ceplifter=22,
                    appendEnergy=True)
    normalised: np.ndarray = features - features.mean(axis=0)
    return normalised
