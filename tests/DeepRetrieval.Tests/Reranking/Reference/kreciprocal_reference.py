"""Writes kreciprocal_cases.json: k-reciprocal re-ranking distances computed by the authors' reference
implementation, zhunzhong07/person-re-ranking python-version/re_ranking_ranklist.py (not included here).

Usage: /usr/bin/python3 kreciprocal_reference.py PATH/TO/re_ranking_ranklist.py

Each case holds float32 query and gallery vectors, the parameters, and the reference's final distance matrix
(queries x gallery), computed from Euclidean distances as the reference's API expects them.
"""
import importlib.util
import json
import sys

import numpy as np

spec = importlib.util.spec_from_file_location("re_ranking_ranklist", sys.argv[1])
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


def euclidean(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0))


def clustered(rng, count, dim, centres):
    labels = rng.integers(0, len(centres), count)
    x = centres[labels] + 0.35 * rng.standard_normal((count, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def case(name, seed, queries, gallery, dim, k1, k2, lam, queries_from_gallery=False):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((4, dim))
    if queries_from_gallery:
        # The first `queries` database items query; the reference ranks the rest of the database for them.
        database = clustered(rng, queries + gallery, dim, centres)
        q, g = database[:queries], database[queries:]
    else:
        q, g = clustered(rng, queries, dim, centres), clustered(rng, gallery, dim, centres)
    final = reference.re_ranking(euclidean(q, g), euclidean(q, q), euclidean(g, g), k1=k1, k2=k2, lambda_value=lam)
    return {
        "name": name, "dimension": dim, "k1": k1, "k2": k2, "lambda": lam,
        "queriesFromGallery": queries_from_gallery,
        "queries": q.ravel().tolist(), "gallery": g.ravel().tolist(),
        "distances": final.astype(np.float64).ravel().tolist(),
    }


cases = [
    case("paper-like", 1, 6, 40, 8, 6, 3, 0.3),
    case("no-expansion-odd-k1", 2, 5, 30, 6, 5, 1, 0.0),
    case("lambda-one", 3, 4, 25, 5, 4, 2, 1.0),
    case("database-items", 4, 7, 33, 6, 6, 3, 0.3, queries_from_gallery=True),
]
with open("kreciprocal_cases.json", "w") as f:
    json.dump(cases, f)
print("wrote", len(cases), "cases")
