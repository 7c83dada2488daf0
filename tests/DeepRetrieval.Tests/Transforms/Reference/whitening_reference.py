"""Writes whitening_cases.json: learned whitening (Lw) computed by cirtorch's whitenlearn/whitenapply
(filipradenovic/cnnimageretrieval-pytorch cirtorch/utils/whiten.py, not included here), and the variant whose
inter-class covariance comes from non-matching pairs (Radenović et al., ECCV 2016), written here in numpy.

Usage: /usr/bin/python3 whitening_reference.py PATH/TO/cirtorch/utils/whiten.py

Eigenvector signs are arbitrary in numpy, so the fixture stores the Gram matrix of the whitened vectors (invariant
to per-dimension signs) and, per output dimension, the absolute values.
"""
import importlib.util
import json
import sys

import numpy as np

spec = importlib.util.spec_from_file_location("whiten", sys.argv[1])
whiten = importlib.util.module_from_spec(spec)
spec.loader.exec_module(whiten)

rng = np.random.default_rng(16)
d, n = 6, 60
centres = rng.standard_normal((5, d)) * 2
labels = rng.integers(0, 5, n)
X = (centres[labels] + rng.standard_normal((n, d)) * np.array([0.2, 0.5, 1.0, 0.3, 0.8, 0.1])).astype(np.float32)
pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if labels[i] == labels[j]][:40]
negatives = [(i, j) for i in range(n) for j in range(i + 1, n) if labels[i] != labels[j]][:80]
q, p = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
nq, np_ = np.array([a for a, _ in negatives]), np.array([b for _, b in negatives])

Xd = X.T.astype(np.float64)
m, P = whiten.whitenlearn(Xd, q, p)
cases = []
for dims in (6, 3):
    W = whiten.whitenapply(Xd, m, P, dims)
    cases.append({"name": f"cirtorch-{dims}", "dims": dims, "nonMatching": False, "gram": (W.T @ W).ravel().tolist(),
                  "absolute": np.abs(W.T).ravel().tolist(), "mean": m.ravel().tolist()})

# ECCV 2016 form: C_D from the non-matching pairs instead of all vectors.
df = Xd[:, q] - Xd[:, p]
L = np.linalg.cholesky(df @ df.T / df.shape[1])
Pinv = np.linalg.inv(L)
dn = Xd[:, nq] - Xd[:, np_]
D = Pinv @ (dn @ dn.T / dn.shape[1]) @ Pinv.T
eigval, eigvec = np.linalg.eigh(D)
order = eigval.argsort()[::-1]
Pn = eigvec[:, order].T @ Pinv
W = whiten.whitenapply(Xd, m, Pn, 4)
cases.append({"name": "non-matching-4", "dims": 4, "nonMatching": True, "gram": (W.T @ W).ravel().tolist(),
              "absolute": np.abs(W.T).ravel().tolist(), "mean": m.ravel().tolist()})

with open("whitening_cases.json", "w") as f:
    json.dump({"dimension": d, "vectors": X.ravel().tolist(), "queries": q.tolist(), "positives": p.tolist(),
               "negativeFirst": nq.tolist(), "negativeSecond": np_.tolist(), "cases": cases}, f)
print("wrote", len(cases), "cases")
