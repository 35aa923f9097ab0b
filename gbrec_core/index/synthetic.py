"""MF-like synthetic vectors for tests and benchmarks of the index layer.

ALS/BPR item factors are low-rank-ish, anisotropic and have norms spread over an
order of magnitude (popular items get long vectors). Those spread norms are what
breaks naive maximum-inner-product search, so the generator plants them on purpose.
"""

from __future__ import annotations

import numpy as np


def mf_vectors(
    n: int, dim: int = 64, *, rank: int = 16, norm_sigma: float = 0.5, seed: int = 0
) -> np.ndarray:
    """``n`` float32 vectors: low-rank latent directions plus noise, lognormal norms."""
    rng = np.random.default_rng(seed)
    # A fixed mixing matrix (seed-independent) so items and users share one latent space.
    mixing = np.random.default_rng(12345).standard_normal((rank, dim)).astype(np.float32)
    scales = np.linspace(2.0, 0.5, rank, dtype=np.float32)[:, None]
    latent = rng.standard_normal((n, rank), dtype=np.float32)
    vectors = latent @ (mixing * scales) + 0.3 * rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    norms = rng.lognormal(mean=0.0, sigma=norm_sigma, size=(n, 1)).astype(np.float32)
    return np.ascontiguousarray(vectors * norms, dtype=np.float32)
