"""Expected logarithms and KL divergences of the conjugate posteriors variational Bayes
keeps: Dirichlet (start, transition and symbol probabilities) and Normal-Wishart
(a Gaussian's mean and precision).

A Wishart here is parametrised by its degrees of freedom ``nu`` and its *scale* ``S``
(hmmlearn's ``scale_posterior_``): the precision ``Lambda`` has ``E[Lambda] = nu S^-1``
and ``E[log |Lambda|] = sum_d psi((nu - d) / 2) - log |S / 2|`` (Penny, "KL divergences
of Normal, Gamma, Dirichlet and Wishart densities"; Ji, Krishnapuram and Carin 2006).
"""

from __future__ import annotations

import numpy as np

# scipy.special is imported where it is used: it takes 0.04 s, and `import tiedhmm`
# (every command-line run) should not pay for models it does not fit.


def dirichlet_expected_log(alpha: np.ndarray) -> np.ndarray:
    """``E[log theta]`` under ``Dirichlet(alpha)``, along the last axis:
    ``psi(alpha_k) - psi(sum_k alpha_k)``."""
    from scipy.special import digamma
    alpha = np.asarray(alpha, dtype=float)
    result: np.ndarray = digamma(alpha) - digamma(alpha.sum(axis=-1, keepdims=True))
    return result


def kl_dirichlet(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``KL(Dirichlet(q) || Dirichlet(p))`` of every row (the last axis is the simplex)."""
    from scipy.special import digamma, gammaln
    q, p = np.asarray(q, dtype=float), np.asarray(p, dtype=float)
    q_total, p_total = q.sum(axis=-1), p.sum(axis=-1)
    result: np.ndarray = (gammaln(q_total) - gammaln(p_total)
                          - (gammaln(q) - gammaln(p)).sum(axis=-1)
                          + ((q - p) * (digamma(q) - digamma(q_total)[..., None])).sum(axis=-1))
    return result


def logdet(matrices: np.ndarray) -> np.ndarray:
    """``log |A|`` of symmetric positive definite matrices (NaN where one is not)."""
    sign, value = np.linalg.slogdet(matrices)
    result: np.ndarray = np.where(sign > 0, value, np.nan)
    return result


def wishart_expected_logdet(dof: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``E[log |Lambda|]`` of Wishart precisions with ``dof (K,)`` and scales ``(K, D, D)``."""
    dof = np.asarray(dof, dtype=float)
    from scipy.special import digamma
    n_features = scale.shape[-1]
    terms = digamma(0.5 * (dof[..., None] - np.arange(n_features)))
    result: np.ndarray = terms.sum(axis=-1) - logdet(scale / 2.0)
    return result


def _wishart_log_normaliser(dof: np.ndarray, scale: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln
    n_features = scale.shape[-1]
    result: np.ndarray = (n_features * (n_features - 1) / 4 * np.log(np.pi)
                          - dof / 2 * logdet(scale / 2.0)
                          + gammaln(0.5 * (dof[..., None] - np.arange(n_features))).sum(axis=-1))
    return result


def kl_wishart(dof_q: np.ndarray, scale_q: np.ndarray, dof_p: np.ndarray,
               scale_p: np.ndarray) -> np.ndarray:
    """``KL(Wishart(dof_q, scale_q) || Wishart(dof_p, scale_p))`` of ``K`` pairs
    (``dof (K,)``, scales ``(K, D, D)``)."""
    dof_q, dof_p = np.asarray(dof_q, dtype=float), np.asarray(dof_p, dtype=float)
    n_features = scale_q.shape[-1]
    trace = np.einsum("kij,kji->k", scale_p, np.linalg.inv(scale_q))
    result: np.ndarray = ((dof_q - dof_p) / 2 * wishart_expected_logdet(dof_q, scale_q)
                          - n_features * dof_q / 2 + dof_q / 2 * trace
                          + _wishart_log_normaliser(dof_p, scale_p)
                          - _wishart_log_normaliser(dof_q, scale_q))
    return result


def expected_gaussian_log_density(X: np.ndarray, means: np.ndarray, beta: np.ndarray,
                                  dof: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(T, K)`` table of ``E[log N(x_t | mu_k, Lambda_k^-1)]`` under Normal-Wishart
    posteriors ``mu | Lambda ~ N(m, (beta Lambda)^-1)``, ``Lambda ~ Wishart(dof, scale)``:

        1/2 E[log |Lambda|] - D/2 log(2 pi) - 1/2 (D / beta + dof (x - m)' S^-1 (x - m))
    """
    n_features = X.shape[1]
    precision = np.linalg.inv(scale)
    delta = X[None, :, :] - means[:, None, :]
    mahalanobis = np.einsum("kti,kij,ktj->tk", delta, precision, delta)
    constant = 0.5 * (wishart_expected_logdet(dof, scale) - n_features * np.log(2 * np.pi)
                      - n_features / beta)
    result: np.ndarray = constant - 0.5 * dof * mahalanobis
    return result


def kl_normal_given_precision(mean_q: np.ndarray, beta_q: np.ndarray, mean_p: np.ndarray,
                              beta_p: np.ndarray, dof: np.ndarray,
                              scale: np.ndarray) -> np.ndarray:
    """``E_Lambda KL(N(m_q, (beta_q Lambda)^-1) || N(m_p, (beta_p Lambda)^-1))`` of ``K``
    means, ``Lambda`` Wishart(dof, scale): the mean's share of the Normal-Wishart KL,

        D/2 (beta_p / beta_q - 1 + log(beta_q / beta_p)) + beta_p / 2 dof d' S^-1 d
    """
    n_features = mean_q.shape[-1]
    delta = mean_q - mean_p
    mahalanobis = np.einsum("ki,kij,kj->k", delta, np.linalg.inv(scale), delta)
    ratio = beta_p / beta_q
    result: np.ndarray = (n_features / 2 * (ratio - 1 - np.log(ratio))
                          + beta_p / 2 * dof * mahalanobis)
    return result
