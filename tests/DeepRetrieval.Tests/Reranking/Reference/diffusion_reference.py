"""Writes diffusion_cases.json: diffusion scores computed by the authors' MATLAB code, ahmetius/diffusion-retrieval
(knn_wrap.m, knngraph.m, transition_matrix.m, ymake.m, dfs.m; not included here), run under GNU Octave, and fast
spectral ranking scores computed with numpy from the same normalised affinity matrix.

Usage: /usr/bin/python3 diffusion_reference.py PATH/TO/diffusion-retrieval   (needs Debian's octave)

Each case holds float32 unit database and query vectors, the parameters, the row-major diffusion scores f
(queries x database), and for each FSR rank r the scores U h(L) U' y with h(l) = 1 / (1 - alpha l) over the r
largest eigenpairs of S.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

code_dir = os.path.abspath(sys.argv[1])

DRIVER = r"""
addpath('{code}');
X = single(dlmread('{dir}/database.txt'))';
Q = single(dlmread('{dir}/queries.txt'))';
k = {k}; kq = {kq}; gamma = {gamma}; alpha = {alpha}; it = {it}; tol = {tol};
[knn, s] = knn_wrap(X, X, k, 100);
A_ = knngraph(knn(1:k, :), s(1:k, :) .^ gamma);
S = transition_matrix(A_);
A = speye(size(S)) - alpha * S;
F = zeros(size(X, 2), size(Q, 2));
Y = zeros(size(X, 2), size(Q, 2));
for q = 1:size(Q, 2)
  y = ymake(X, Q(:, q), kq, gamma);
  Y(:, q) = y;
  F(:, q) = dfs(A, y, tol, it);
end
dlmwrite('{dir}/f.txt', F, 'precision', '%.17g');
dlmwrite('{dir}/y.txt', Y, 'precision', '%.17g');
dlmwrite('{dir}/s.txt', full(S), 'precision', '%.17g');
"""


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def case(name, seed, n, nq, dim, k, kq, gamma, alpha, it, tol, ranks, isolated=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((5, dim))
    x = centres[rng.integers(0, 5, n)] + 0.45 * rng.standard_normal((n, dim))
    if isolated:
        # A few far-away points whose neighbours do not list them back: nodes with no mutual edge.
        x[-isolated:] = 4.0 * rng.standard_normal((isolated, dim))
    x = unit(x)
    q = unit(centres[rng.integers(0, 5, nq)] + 0.45 * rng.standard_normal((nq, dim)))
    with tempfile.TemporaryDirectory() as tmp:
        np.savetxt(f"{tmp}/database.txt", x, delimiter=",", fmt="%.9g")
        np.savetxt(f"{tmp}/queries.txt", q, delimiter=",", fmt="%.9g")
        script = DRIVER.format(code=code_dir, dir=tmp, k=k, kq=kq, gamma=gamma, alpha=alpha, it=it, tol=tol)
        with open(f"{tmp}/driver.m", "w") as f:
            f.write(script)
        subprocess.run(["octave", "--no-gui", "--quiet", "--eval", f"run('{tmp}/driver.m')"], check=True)
        f_scores = np.loadtxt(f"{tmp}/f.txt", delimiter=",").reshape(n, nq)
        y = np.loadtxt(f"{tmp}/y.txt", delimiter=",").reshape(n, nq)
        s = np.loadtxt(f"{tmp}/s.txt", delimiter=",").reshape(n, n)
    eigenvalues, eigenvectors = np.linalg.eigh((s + s.T) / 2)
    order = np.argsort(-eigenvalues)
    fsr = {}
    for r in ranks:
        u = eigenvectors[:, order[:r]]
        h = 1.0 / (1.0 - alpha * eigenvalues[order[:r]])
        fsr[str(r)] = (u @ (h[:, None] * (u.T @ y))).T.ravel().tolist()
    return {
        "name": name, "dimension": dim, "k": k, "kq": kq, "gamma": gamma, "alpha": alpha,
        "iterations": it, "tolerance": tol,
        "database": x.ravel().tolist(), "queries": q.ravel().tolist(),
        "scores": f_scores.T.ravel().tolist(),
        "eigenvalues": np.sort(eigenvalues)[::-1].tolist(),
        "fsr": fsr,
    }


cases = [
    case("paper-parameters", 11, 120, 5, 8, 10, 5, 3, 0.99, 20, 1e-6, [120, 30]),
    case("few-iterations", 12, 80, 4, 6, 8, 4, 2, 0.9, 3, 1e-6, [80]),
    case("isolated-nodes", 13, 70, 3, 6, 6, 3, 3, 0.95, 20, 1e-6, [70, 20], isolated=4),
]
with open("diffusion_cases.json", "w") as f:
    json.dump(cases, f)
print("wrote", len(cases), "cases")
