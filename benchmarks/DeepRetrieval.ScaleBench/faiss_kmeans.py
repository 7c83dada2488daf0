# The Faiss side of `ScaleBench kmeans` (docs/benchmarks.md, "k-means for IVF65536"): faiss.Kmeans on the first ROWS of
# DIR/base.fvecs, one process, THREADS OpenMP threads. A peer to measure against, never a dependency.
#   python3 faiss_kmeans.py DIR K ITERATIONS ROWS THREADS
import sys, time, numpy as np, faiss, os
d_path, k, niter, rows, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
faiss.omp_set_num_threads(threads)
raw = np.fromfile(os.path.join(d_path, 'base.fvecs'), dtype=np.int32, count=(rows * 129))
d = raw[0]; x = raw.reshape(-1, d + 1)[:, 1:].copy().view(np.float32)
print('load average', open('/proc/loadavg').read().strip(), flush=True)
t = time.time()
km = faiss.Kmeans(int(d), k, niter=niter, seed=1234, verbose=False, max_points_per_centroid=256)
km.train(x)
print(f'faiss {faiss.__version__} kmeans K={k} iterations={niter} on {len(x):,} rows: {time.time()-t:.2f} s, objective {km.obj[-1]:.6g}', flush=True)
