namespace DeepRetrieval.AnnBench;

/// <summary>The <c>--help</c> text.</summary>
internal static class Usage
{
    public const string Text = """
        Usage: dotnet run -c Release --project benchmarks/DeepRetrieval.AnnBench -- [options]

        Builds each index, times queries one at a time (qps) and in one batch (batch_qps), and measures
        neighbour-overlap recall@k against exact ground truth, in the manner of ann-benchmarks.

        Data:
          --dataset SPEC          fashion-mnist   Fashion-MNIST, 60k train images as base, test images as queries
                                  DIR             DIR/base.fvecs, DIR/query.fvecs, DIR/groundtruth.ivecs
                                  synthetic:N:D   N seeded clustered-Gaussian vectors of dimension D, 1000 queries
          --data-dir DIR          where the Fashion-MNIST IDX files are (default: the Debian dataset path)
          --cache-dir DIR         ground-truth cache (default: ~/.cache/deepretrieval/annbench)
          --queries N             use the first N queries (default: all)
          --seed N                seed of synthetic data (default: 42)

        Index:
          --index DESC            index description for IndexFactory, e.g. Flat, HNSW32, IVF1024,PQ16
                                  (default: Flat; repeat the option to run several indexes)
          --metric l2|ip|cosine   distance (default: l2)
          --search-params SPEC    search-time parameters to sweep, e.g. "ef=10,20,40" or
                                  "nprobe=1,4,16;k_factor=1,2" (cartesian product of all names)

        Measurement:
          --k N                   neighbours per query (default: 10)
          --threads N             threads for batched search (default: 1; 0 = all cores)
          --runs N                keep the best of N timings (default: 1)
          --compare-torch         also time libtorch's exact search (matmul + topk) on the same data
          --batch-only            skip the one-query-per-call timing (qps is then null)
          --build-threads N       threads for building the index (default: 0 = all cores)

        Output:
          --json FILE             write the result rows as JSON
          --plot FILE.png         plot recall against QPS (log scale), one line per index
          --peer NAME=FILE.csv    add another library's curve to the plot, "recall,qps" per line, as its
                                  own driver measured it in the same session (repeatable)
          -h, --help              show this text

        Exit codes: 0 success, 1 run failure, 2 bad options or missing input files.
        """;
}
