"""Side-by-side peer for k-reciprocal re-ranking: times the authors' reference implementation
(zhunzhong07/person-re-ranking python-version/re_ranking_ranklist.py, not included here) on the same vectors that
rerank-bench reads, one round per call, and prints seconds and peak resident memory.

  /usr/bin/python3 kreciprocal_peer.py generate DIR QUERIES DATABASE   # writes DIR/queries.npy, DIR/database.npy
  /usr/bin/python3 kreciprocal_peer.py slice QUERIES.npy DATABASE.npy DIR QUERIES DATABASE   # first rows of real embeddings
  /usr/bin/python3 kreciprocal_peer.py run PATH/TO/re_ranking_ranklist.py DIR

Interleave with ours:
  for r in 1 2 3; do
    /usr/bin/python3 kreciprocal_peer.py run re_ranking_ranklist.py DIR
    dotnet benchmarks/DeepRetrieval.RerankBench/bin/Release/net10.0/rerank-bench.dll --method kreciprocal --rounds 1 \
      --vectors DIR/database.npy --query-vectors DIR/queries.npy
  done
"""
import importlib.util
import resource
import sys
import time

import numpy as np


def unit_mixture(rng, centres, count):
    x = centres[rng.integers(0, len(centres), count)] + 0.6 * rng.standard_normal((count, centres.shape[1]))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


if sys.argv[1] == "generate":
    directory, queries, database = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(20)
    centres = rng.standard_normal((100, 128))
    np.save(f"{directory}/database.npy", unit_mixture(rng, centres, database))
    np.save(f"{directory}/queries.npy", unit_mixture(rng, centres, queries))
elif sys.argv[1] == "slice":
    directory, queries, database = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    np.save(f"{directory}/queries.npy", np.load(sys.argv[2])[:queries])
    np.save(f"{directory}/database.npy", np.load(sys.argv[3])[:database])
else:
    spec = importlib.util.spec_from_file_location("re_ranking_ranklist", sys.argv[2])
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    q, g = np.load(f"{sys.argv[3]}/queries.npy"), np.load(f"{sys.argv[3]}/database.npy")

    def euclidean(a, b):
        squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.sqrt(np.maximum(squared, 0))

    start = time.perf_counter()
    final = reference.re_ranking(euclidean(q, g), euclidean(q, q), euclidean(g, g), k1=20, k2=6, lambda_value=0.3)
    ranks = np.argsort(final, axis=1)[:, :100]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"reference: {len(q)} queries x {len(g)} database, {seconds:.2f} s (distances included), peak resident memory {peak:.0f} MB")
