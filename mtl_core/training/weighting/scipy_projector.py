"""A dual-cone projector for torchjd's UPGrad and DualProj that solves its small QP with scipy.

torchjd's default projector needs the optional ``quadprog`` and ``qpsolvers`` packages; scipy is already
installed (scikit-learn depends on it). The problem is tiny (one variable per task): for each u,
min_v v^T G v subject to v >= u. With G = L L^T (Cholesky), v^T G v = ||L^T v||^2, a bounded
least-squares problem that ``scipy.optimize.lsq_linear`` solves exactly (BVLS). G is first normalised and
regularised as torchjd's own projector does.
"""
from __future__ import annotations

import numpy as np
import torch
from torchjd.linalg import DualConeProjector


class ScipyProjector(DualConeProjector):
    """``DualConeProjector`` backed by ``scipy.optimize.lsq_linear``; same eps defaults as torchjd's."""

    def __init__(self, *, norm_eps: float = 1e-4, reg_eps: float = 1e-4):
        self.norm_eps = norm_eps
        self.reg_eps = reg_eps

    def __call__(self, U: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
        from scipy.optimize import (
            lsq_linear,  # scipy import is slow; only methods that project pay it
        )

        gram = G.detach().cpu().double().numpy()               # (m, m)
        trace = gram.trace()
        gram = gram / trace if trace >= self.norm_eps else np.zeros_like(gram)
        gram = gram + self.reg_eps * np.eye(len(gram))
        root = np.linalg.cholesky(gram).T                      # (m, m): v^T G v = ||root @ v||^2
        us = U.detach().cpu().double().numpy().reshape(-1, len(gram))   # (N, m)
        zero = np.zeros(len(gram))
        ws = [lsq_linear(root, zero, bounds=(u, np.inf), method="bvls").x for u in us]
        return torch.as_tensor(np.stack(ws).reshape(U.shape), dtype=G.dtype, device=G.device)
