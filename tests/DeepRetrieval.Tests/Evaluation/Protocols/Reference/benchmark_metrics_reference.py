"""Writes the fixtures of the Google Landmarks v2, ISC 2021 and Market-1501 metrics, each computed by the
benchmark's own code (not included here):

- gldv2_*.csv and gldv2_expected.json: tensorflow/models research/delf/.../google_landmarks_dataset
  (dataset_file_io.py ReadSolution/ReadPredictions, metrics.py GlobalAveragePrecision/MeanAveragePrecision);
- isc_*.csv and isc_expected.json: facebookresearch/isc2021 isc/io.py and isc/metrics.py evaluate;
- market_cases.json: the Market-1501 MATLAB evaluation (evaluation.m, compute_AP.m, from
  zhunzhong07/person-re-ranking evaluation/utils) run under GNU Octave.

Usage: /usr/bin/python3 benchmark_metrics_reference.py DELF_DIR ISC_DIR MARKET_MATLAB_DIR
where DELF_DIR holds metrics.py and dataset_file_io.py (tf.io.gfile.GFile replaced by open), ISC_DIR holds the isc
package, and MARKET_MATLAB_DIR holds evaluation.m and compute_AP.m.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np

delf_dir, isc_dir, market_dir = (os.path.abspath(a) for a in sys.argv[1:4])
sys.path.insert(0, delf_dir)
sys.path.insert(0, isc_dir)
sys.modules["h5py"] = types.ModuleType("h5py")  # isc/io.py imports it for descriptor files only
import dataset_file_io  # noqa: E402
import metrics as delf_metrics  # noqa: E402
from isc import io as isc_io  # noqa: E402
from isc import metrics as isc_metrics  # noqa: E402

rng = np.random.default_rng(2021)

# ---------------------------------------------------------------- Google Landmarks v2
landmarks = [int(x) for x in rng.choice(200000, 12, replace=False)]
test_ids = [f"{int(x):016x}" for x in rng.integers(0, 2**62, 30)]
usage = ["Public"] * 12 + ["Private"] * 12 + ["Ignored"] * 6
recognition_truth = {}
with open("gldv2_recognition_solution.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "landmarks", "Usage"])
    for i, t in enumerate(test_ids):
        if usage[i] == "Ignored" or i % 4 == 3:
            truth = []  # not a landmark
        else:
            truth = [int(x) for x in rng.choice(landmarks, 1 + (i % 5 == 0), replace=False)]
        recognition_truth[t] = truth
        w.writerow([t, " ".join(str(x) for x in truth), usage[i]])
with open("gldv2_recognition_predictions.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "landmarks"])
    for i, t in enumerate(test_ids):
        if i == 5:
            w.writerow([t, ""])  # no prediction
            continue
        score = [0.9, 0.5, 0.5, 0.25][i % 4] if i % 3 == 0 else round(float(rng.random()), 4)  # some ties
        truth = recognition_truth[t]
        guess = truth[0] if truth and rng.random() < 0.6 else int(rng.choice(landmarks))
        w.writerow([t, f"{guess} {score}"])
index_ids = [f"{int(x):016x}" for x in rng.integers(0, 2**62, 150)]
retrieval_truth = {}
with open("gldv2_retrieval_solution.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "images", "Usage"])
    for i, t in enumerate(test_ids):
        truth = [] if usage[i] == "Ignored" else list(rng.choice(index_ids, 1 + i % 7, replace=False))
        retrieval_truth[t] = truth
        w.writerow([t, " ".join(truth), usage[i]])
with open("gldv2_retrieval_predictions.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "images"])
    for i, t in enumerate(test_ids):
        if i == 7:
            continue  # no line at all
        ranked = list(rng.choice(index_ids, 110, replace=True))  # repeats are skipped by the metric
        for relevant in retrieval_truth[t]:
            ranked[int(rng.integers(0, 110))] = relevant  # some land past the cut-off of 100
        w.writerow([t, " ".join(ranked) + (" " if i % 5 == 0 else "")])

expected = {}
for task, tag in (("recognition", "recognition"), ("retrieval", "retrieval")):
    public_solution, private_solution, ignored = dataset_file_io.ReadSolution(f"gldv2_{tag}_solution.csv", task)
    public_predictions, private_predictions = dataset_file_io.ReadPredictions(
        f"gldv2_{tag}_predictions.csv", public_solution.keys(), private_solution.keys(), ignored, task)
    if task == "recognition":
        expected["gapPublic"] = delf_metrics.GlobalAveragePrecision(public_predictions, public_solution)
        expected["gapPrivate"] = delf_metrics.GlobalAveragePrecision(private_predictions, private_solution)
        expected["gapPublicIgnoringNonLandmarks"] = delf_metrics.GlobalAveragePrecision(public_predictions, public_solution, True)
        expected["recognitionPublicCount"] = len(public_predictions)
    else:
        expected["mapPublic"] = delf_metrics.MeanAveragePrecision(public_predictions, public_solution)
        expected["mapPrivate"] = delf_metrics.MeanAveragePrecision(private_predictions, private_solution)
        expected["mapPublicAt10"] = delf_metrics.MeanAveragePrecision(public_predictions, public_solution, 10)
with open("gldv2_expected.json", "w") as f:
    json.dump(expected, f, indent=1)

# ---------------------------------------------------------------- ISC 2021
queries = [f"Q{i:05d}" for i in range(40)]
references = [f"R{i:06d}" for i in range(300)]
with open("isc_ground_truth.csv", "w") as f:
    f.write("query_id,reference_id\n")
    for i, q in enumerate(queries):
        f.write(f"{q},{references[int(rng.integers(0, 300))] if i % 3 != 2 else ''}\n")
gt = isc_io.read_ground_truth("isc_ground_truth.csv")
gt_of = {g.query: g.db for g in gt}
with open("isc_predictions.csv", "w") as f:
    f.write("query_id,reference_id,score\n")
    for q in queries:
        picks = list(rng.choice(references, 8, replace=False))
        if q in gt_of and rng.random() < 0.8:
            picks[int(rng.integers(0, 8))] = gt_of[q]
        for r in dict.fromkeys(picks):
            score = round(float(rng.random()), 2)  # two decimals: many ties
            if r == gt_of.get(q) and rng.random() < 0.7:
                score = round(0.9 + 0.1 * float(rng.random()), 2)
            f.write(f"{q},{r},{score:.6f}\n")
m = isc_metrics.evaluate(gt, isc_io.read_predictions("isc_predictions.csv"))
with open("isc_expected.json", "w") as f:
    json.dump({"averagePrecision": m.average_precision, "recallAtP90": m.recall_at_p90, "thresholdAtP90": m.threshold_at_p90,
               "recallAtRank1": m.recall_at_rank1, "recallAtRank10": m.recall_at_rank10}, f, indent=1)

# ---------------------------------------------------------------- Market-1501 (Octave)
DRIVER = r"""
addpath('{code}');
dist = dlmread('{dir}/dist.txt');
lg = dlmread('{dir}/label_gallery.txt'); lq = dlmread('{dir}/label_query.txt');
cg = dlmread('{dir}/cam_gallery.txt'); cq = dlmread('{dir}/cam_query.txt');
[CMC, map] = evaluation(dist, lg, lq, cg, cq);
dlmwrite('{dir}/cmc.txt', CMC, 'precision', '%.17g');
dlmwrite('{dir}/map.txt', map, 'precision', '%.17g');
"""
market = []
for seed in (1, 2):
    r = np.random.default_rng(seed)
    ng, nq = 60, 9
    lg = r.integers(1, 8, ng)
    lg[:4] = -1   # junk images
    lg[4:10] = 0  # distractors
    cg = r.integers(1, 7, ng)
    lq = r.integers(1, 8, nq)
    lq[0] = 99    # no image of this identity in the gallery
    cq = r.integers(1, 7, nq)
    dist = r.random((ng, nq))
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in (("dist", dist), ("label_gallery", lg[:, None]), ("label_query", lq[:, None]),
                            ("cam_gallery", cg[:, None]), ("cam_query", cq[:, None])):
            np.savetxt(f"{tmp}/{name}.txt", value, delimiter=",", fmt="%.17g")
        with open(f"{tmp}/driver.m", "w") as f:
            f.write(DRIVER.format(code=market_dir, dir=tmp))
        subprocess.run(["octave", "--no-gui", "--quiet", "--eval", f"run('{tmp}/driver.m')"], check=True)
        cmc = np.loadtxt(f"{tmp}/cmc.txt", delimiter=",").ravel()
        mean_ap = float(np.loadtxt(f"{tmp}/map.txt", delimiter=","))
    market.append({"distances": dist.T.ravel().tolist(), "galleryIdentities": lg.tolist(), "galleryCameras": cg.tolist(),
                   "queryIdentities": lq.tolist(), "queryCameras": cq.tolist(), "cmc": cmc.tolist(), "map": mean_ap})
with open("market_cases.json", "w") as f:
    json.dump(market, f)
print("wrote GLDv2, ISC and Market-1501 fixtures")
