"""Writes the revisited Oxford/Paris fixtures:

- revisitop_cases.json: random rankings and ground truths scored by revisitop's own compute_map
  (filipradenovic/revisitop python/evaluate.py, not included here) under the Easy, Medium and Hard settings built as
  python/example_evaluate.py builds them;
- gnd_lists.pkl (protocol 2, plain lists), gnd_numpy.pkl (protocol 5, NumPy arrays) and gnd_numpy_protocol2.pkl:
  the same tiny ground truth in the forms a gnd_*.pkl file can take;
- crops.json: the integer box PIL's Image.crop takes for fractional query boxes.

Usage: /usr/bin/python3 revisitop_reference.py PATH/TO/revisitop/python/evaluate.py
"""
import importlib.util
import json
import pickle
import sys

import numpy as np
from PIL import Image

spec = importlib.util.spec_from_file_location("evaluate", sys.argv[1])
evaluate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(evaluate)


def settings(gnd):
    easy = [{"ok": np.concatenate([g["easy"]]), "junk": np.concatenate([g["junk"], g["hard"]])} for g in gnd]
    medium = [{"ok": np.concatenate([g["easy"], g["hard"]]), "junk": np.concatenate([g["junk"]])} for g in gnd]
    hard = [{"ok": np.concatenate([g["hard"]]), "junk": np.concatenate([g["junk"], g["easy"]])} for g in gnd]
    return {"Easy": easy, "Medium": medium, "Hard": hard}


def nan_to_none(values):
    return [None if np.isnan(v) else float(v) for v in np.ravel(values)]


def case(seed, n, nq):
    rng = np.random.default_rng(seed)
    gnd = []
    for q in range(nq):
        perm = rng.permutation(n)
        e, h, j = rng.integers(0, 6), rng.integers(0, 4), rng.integers(0, 5)
        if q == 0:
            h = 0  # no hard positives: the Hard setting skips this query
        if q == 1:
            e, h = 0, 0  # no positives at all
        gnd.append({"easy": perm[:e].astype(np.int64), "hard": perm[e:e + h].astype(np.int64),
                    "junk": perm[e + h:e + h + j].astype(np.int64)})
    ranks = np.stack([rng.permutation(n) for _ in range(nq)], axis=1)  # db_size x nq, as revisitop takes them
    results = {}
    for name, g in settings(gnd).items():
        m, aps, pr, prs = evaluate.compute_map(ranks, g, [1, 5, 10])
        results[name] = {"map": float(m), "aps": nan_to_none(aps), "mpr": [float(v) for v in pr], "prs": nan_to_none(prs)}
    return {
        "databaseSize": n,
        "ranks": ranks.T.ravel().tolist(),  # row-major queries x db_size
        "gnd": [{k: v.tolist() for k, v in g.items()} for g in gnd],
        "results": results,
    }


cases = [case(s, 25, 7) for s in (1, 2, 3)]
with open("revisitop_cases.json", "w") as f:
    json.dump(cases, f)

tiny = {
    "imlist": ["all_souls_000001", "all_souls_000002", "radcliffe_camera_000003", "magdalen_000004"],
    "qimlist": ["all_souls_000013", "radcliffe_camera_000519"],
    "gnd": [
        {"bbx": [136.5, 34.1, 648.5, 955.0], "easy": [0], "hard": [1], "junk": [3]},
        {"bbx": [0.5, 1.5, 2.5, 3.5], "easy": [], "hard": [2], "junk": []},
    ],
}
with open("gnd_lists.pkl", "wb") as f:
    pickle.dump(tiny, f, protocol=2)
with_arrays = {
    "imlist": tiny["imlist"], "qimlist": tiny["qimlist"],
    "gnd": [{"bbx": np.array(g["bbx"], dtype=np.float64), "easy": np.array(g["easy"], dtype=np.int64),
             "hard": np.array(g["hard"], dtype=np.int32), "junk": np.array(g["junk"], dtype=np.int64)} for g in tiny["gnd"]],
}
with open("gnd_numpy.pkl", "wb") as f:
    pickle.dump(with_arrays, f, protocol=5)
with open("gnd_numpy_protocol2.pkl", "wb") as f:
    pickle.dump(with_arrays, f, protocol=2)

# PIL's crop box: crop an image whose pixel value encodes its coordinates and read the corners back.
width, height = 64, 48
coords = Image.fromarray((np.arange(height)[:, None] * 1000 + np.arange(width)[None, :]).astype(np.int32), mode="I")
crops = []
for box in [(0.5, 1.5, 2.5, 3.5), (10.49, 3.51, 20.5, 30.5), (1.0, 2.0, 33.7, 40.2), (7.5, 8.5, 9.5, 10.5)]:
    cropped = np.array(coords.crop(box))
    y0, x0 = divmod(int(cropped[0, 0]), 1000)
    crops.append({"box": list(box), "crop": [x0, y0, x0 + cropped.shape[1], y0 + cropped.shape[0]]})
with open("crops.json", "w") as f:
    json.dump(crops, f)
print("wrote", len(cases), "cases, 2 pickles and", len(crops), "crops")
