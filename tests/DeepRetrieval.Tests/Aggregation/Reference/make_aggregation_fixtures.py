#!/usr/bin/python3
"""Reference values for the core aggregation tests, computed with numpy from the papers' formulas:

* Gaussian mixture EM (diagonal covariances) as scikit-learn's GaussianMixture does it: E-step with log-sum-exp, M-step
  N_k = sum_i r_ik + 10 eps, mu_k = sum_i r_ik x_i / N_k, var_k = sum_i r_ik x_i^2 / N_k - mu_k^2, then DeepRetrieval's
  variance floor (1e-3 times the data's per-dimension variance), from a given start, for 8 iterations;
* Fisher vectors (Sanchez et al., IJCV 2013) for that mixture: gradients w.r.t. means and variances, power 0.5, L2;
* VLAD (Jegou et al., CVPR 2010): residual sums, then SSR + L2, and intra-normalisation + L2;
* bag-of-words TF-IDF scores (Sivic & Zisserman 2003) with square-rooted counts and L2 / dot product, and L1 /
  histogram intersection;
* the ASMK / ASMK* match kernel (Tolias et al., IJCV 2016) with alpha = 3, tau = 0.

Run with /usr/bin/python3 (numpy only):  /usr/bin/python3 tests/DeepRetrieval.Tests/Aggregation/Reference/make_aggregation_fixtures.py
Every array is written as float32 .npy into ../Fixtures.
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'Fixtures')


def save(name, array):
    np.save(os.path.join(OUT, name + '.npy'), np.ascontiguousarray(array, dtype=np.float32))


def log_gaussians(x, weights, means, variances):
    d = x.shape[1]
    diff = x[:, None, :] - means[None, :, :]
    return (np.log(weights)[None, :] - 0.5 * (d * np.log(2 * np.pi) + np.log(variances).sum(1)[None, :]
            + (diff ** 2 / variances[None, :, :]).sum(2)))


def em(x, weights, means, variances, iterations, floor_fraction):
    floor = np.maximum(1e-10, floor_fraction * x.var(0))
    lls = []
    for _ in range(iterations):
        log_joint = log_gaussians(x, weights, means, variances)
        top = log_joint.max(1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(log_joint - top).sum(1))
        resp = np.exp(log_joint - log_norm[:, None])
        lls.append(log_norm.mean())
        nk = resp.sum(0) + 10 * np.finfo(np.float64).eps
        means = resp.T @ x / nk[:, None]
        variances = np.maximum(resp.T @ (x * x) / nk[:, None] - means ** 2, floor[None, :])
        weights = nk / nk.sum()
    return weights, means, variances, np.array(lls)


def fisher(x, weights, means, variances):
    log_joint = log_gaussians(x, weights, means, variances)
    resp = np.exp(log_joint - log_joint.max(1, keepdims=True))
    resp /= resp.sum(1, keepdims=True)
    n = x.shape[0]
    sigma = np.sqrt(variances)
    u = (x[:, None, :] - means[None, :, :]) / sigma[None, :, :]
    g_mu = (resp[:, :, None] * u).sum(0) / (n * np.sqrt(weights)[:, None])
    g_sigma = (resp[:, :, None] * (u ** 2 - 1)).sum(0) / (n * np.sqrt(2 * weights)[:, None])
    fv = np.concatenate([g_mu.reshape(-1), g_sigma.reshape(-1)])
    fv = np.sign(fv) * np.sqrt(np.abs(fv))
    return fv / np.linalg.norm(fv)


def nearest(x, centres):
    return ((x[:, None, :] - centres[None, :, :]) ** 2).sum(2).argmin(1)


def vlad(x, centres, intra):
    words = nearest(x, centres)
    v = np.zeros_like(centres)
    for i, w in enumerate(words):
        v[w] += x[i] - centres[w]
    if intra:
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        v = np.where(norms > 0, v / np.where(norms > 0, norms, 1), 0)
    else:
        v = np.sign(v) * np.sqrt(np.abs(v))
    v = v.reshape(-1)
    return v / np.linalg.norm(v)


def bow_scores(documents, query, vocabulary, normalisation, similarity):
    counts = np.zeros((len(documents), vocabulary))
    for i, words in enumerate(documents):
        np.add.at(counts[i], words, 1)
    q = np.zeros(vocabulary)
    np.add.at(q, query, 1)
    df = (counts > 0).sum(0)
    idf = np.where(df > 0, np.log(len(documents) / np.maximum(df, 1)), 0)
    d = np.sqrt(counts) * idf[None, :]
    qv = np.sqrt(q) * idf
    norm = (lambda v, axis=None: np.abs(v).sum(axis=axis)) if normalisation == 'l1' else (lambda v, axis=None: np.sqrt((v * v).sum(axis=axis)))
    dn = norm(d, axis=1)
    d = d / np.where(dn > 0, dn, 1)[:, None]
    qv = qv / norm(qv)
    if similarity == 'dot':
        return d @ qv
    return np.minimum(d, qv[None, :]).sum(1)


def asmk(xa, xb, centres, binary, alpha=3.0):
    def aggregate(x):
        words = nearest(x, centres)
        out = {}
        for w in np.unique(words):
            v = (x[words == w] - centres[w]).sum(0)
            v = v / np.linalg.norm(v)
            out[w] = (v > 0) if binary else v
        return out
    d = centres.shape[1]

    def sim(a, b):
        u = 1 - 2 * np.count_nonzero(a != b) / d if binary else float(a @ b)
        return np.sign(u) * abs(u) ** alpha if u > 0 else 0.0
    a, b = aggregate(xa), aggregate(xb)
    self_a = sum(sim(v, v) for v in a.values())
    self_b = sum(sim(v, v) for v in b.values())
    total = sum(sim(a[w], b[w]) for w in a if w in b)
    return total / np.sqrt(self_a * self_b)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240613)

    # Mixture: three clusters in 3-D, started from three data points, unit-scaled variances and equal weights.
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 3.0, 1.0]])
    scales = np.array([[1.0, 0.5, 0.8], [0.6, 1.2, 0.7], [0.9, 0.9, 0.4]])
    x = np.concatenate([centres[c] + scales[c] * rng.standard_normal((100, 3)) for c in range(3)]).astype(np.float32).astype(np.float64)
    start_means = x[[5, 150, 250]].copy()
    start_vars = np.tile(x.var(0), (3, 1))
    start_weights = np.full(3, 1 / 3)
    w, m, v, lls = em(x, start_weights, start_means, start_vars, 8, 1e-3)
    save('gmm_data', x)
    save('gmm_start', np.concatenate([start_weights[:, None], start_means, start_vars], axis=1))
    save('gmm_result', np.concatenate([w[:, None], m, v], axis=1))
    save('gmm_loglikelihoods', lls)

    # Fisher vectors of two small descriptor sets under the fitted mixture (stored float32, so recomputed from the rounded values).
    w32, m32, v32 = w.astype(np.float32).astype(np.float64), m.astype(np.float32).astype(np.float64), v.astype(np.float32).astype(np.float64)
    fa = (x[rng.choice(300, 40, replace=False)] + 0.1 * rng.standard_normal((40, 3))).astype(np.float32).astype(np.float64)
    fb = (rng.standard_normal((25, 3)) * 2).astype(np.float32).astype(np.float64)
    save('fisher_descriptors_a', fa)
    save('fisher_descriptors_b', fb)
    save('fisher_a', fisher(fa, w32, m32, v32))
    save('fisher_b', fisher(fb, w32, m32, v32))

    # VLAD: 4 words in 3-D, 30 descriptors.
    words = rng.standard_normal((4, 3)).astype(np.float32).astype(np.float64)
    xs = rng.standard_normal((30, 3)).astype(np.float32).astype(np.float64)
    save('vlad_words', words)
    save('vlad_descriptors', xs)
    save('vlad_ssr', vlad(xs, words, intra=False))
    save('vlad_intra', vlad(xs, words, intra=True))

    # Bag of words: 40 documents over 60 words, a query; scores under both set-ups.
    docs = [rng.integers(0, 60, size=rng.integers(5, 40)) for _ in range(40)]
    query = np.concatenate([docs[7][:10], rng.integers(0, 60, size=8)])
    flat = np.concatenate([[len(d)] + list(d) for d in docs]).astype(np.float64)
    save('bow_documents', flat)
    save('bow_query', query.astype(np.float64))
    save('bow_scores_l2_dot', bow_scores(docs, query, 60, 'l2', 'dot'))
    save('bow_scores_l1_intersection', bow_scores(docs, query, 60, 'l1', 'intersection'))

    # ASMK: 6 words in 16-D, two descriptor sets sharing some structure.
    centres = rng.standard_normal((6, 16)).astype(np.float32).astype(np.float64)
    xa = (centres[rng.integers(0, 6, 30)] + 0.6 * rng.standard_normal((30, 16))).astype(np.float32).astype(np.float64)
    xb = np.concatenate([xa[:15] + 0.2 * rng.standard_normal((15, 16)), centres[rng.integers(0, 6, 10)] + 0.6 * rng.standard_normal((10, 16))]).astype(np.float32).astype(np.float64)
    save('asmk_words', centres)
    save('asmk_a', xa)
    save('asmk_b', xb)
    save('asmk_kernels', np.array([asmk(xa, xb, centres, True), asmk(xa, xb, centres, False)]))


if __name__ == '__main__':
    main()
