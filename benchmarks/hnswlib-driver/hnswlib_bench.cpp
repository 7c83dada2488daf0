// Reference numbers for HnswIndex: native hnswlib (Debian's libhnswlib-dev headers) on the same
// base/query/groundtruth files, M=16, efConstruction=200, single-threaded build, one query at a time.
#include <hnswlib/hnswlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unordered_set>
#include <vector>

template <typename T>
static std::vector<T> read_vecs(const std::string& path, int& dim, size_t& rows) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", path.c_str()); std::exit(1); }
    in.seekg(0, std::ios::end);
    size_t bytes = static_cast<size_t>(in.tellg());
    in.seekg(0);
    int d = 0;
    in.read(reinterpret_cast<char*>(&d), 4);
    if (d <= 0) { std::fprintf(stderr, "%s: bad dimension %d\n", path.c_str(), d); std::exit(1); }
    size_t rowBytes = 4 + static_cast<size_t>(d) * sizeof(T);
    if (bytes % rowBytes != 0) { std::fprintf(stderr, "%s: size is not whole rows\n", path.c_str()); std::exit(1); }
    rows = bytes / rowBytes;
    dim = d;
    std::vector<T> data(rows * d);
    in.seekg(0);
    for (size_t r = 0; r < rows; r++) {
        int rd = 0;
        in.read(reinterpret_cast<char*>(&rd), 4);
        if (rd != d) { std::fprintf(stderr, "%s: row %zu has dimension %d\n", path.c_str(), r, rd); std::exit(1); }
        in.read(reinterpret_cast<char*>(&data[r * d]), d * sizeof(T));
    }
    return data;
}

int main(int argc, char** argv) {
    std::string dir = argc > 1 ? argv[1] : ".";
    // Timed passes per ef after one warm-up pass; match AnnBench's --runs when comparing.
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    const int k = 10, M = 16, efConstruction = 200;
    int d = 0, dq = 0, dg = 0;
    size_t nb = 0, nq = 0, ng = 0;
    std::vector<float> base = read_vecs<float>(dir + "/base.fvecs", d, nb);
    std::vector<float> queries = read_vecs<float>(dir + "/query.fvecs", dq, nq);
    std::vector<int> truth = read_vecs<int>(dir + "/groundtruth.ivecs", dg, ng);
    if (dq != d || ng != nq || dg < k) { std::fprintf(stderr, "inconsistent files\n"); return 1; }
    std::printf("base %zu x %d, queries %zu, M=%d efConstruction=%d\n", nb, d, nq, M, efConstruction);

    hnswlib::L2Space space(d);
    hnswlib::HierarchicalNSW<float> index(&space, nb, M, efConstruction, 100);
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < nb; i++) index.addPoint(&base[i * d], i);
    double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t linkBytes = nb * index.size_data_per_element_;
    std::printf("build %.2f s (1 thread), data+level0 %.1f MB\n", build, linkBytes / 1e6);

    std::printf("%6s %10s %10s\n", "ef", "recall@10", "QPS");
    for (int ef : {10, 14, 20, 28, 40}) {
        index.setEf(ef);
        size_t hits = 0;
        std::vector<std::vector<hnswlib::labeltype>> found(nq);
        // A warm-up pass, then the best of `runs` timed passes (as DeepRetrieval.AnnBench --runs does).
        double seconds = 1e300;
        for (int run = 0; run <= runs; run++) {
            for (auto& f : found) f.clear();
            auto s0 = std::chrono::steady_clock::now();
            for (size_t q = 0; q < nq; q++) {
                auto result = index.searchKnn(&queries[q * d], k);
                while (!result.empty()) { found[q].push_back(result.top().second); result.pop(); }
            }
            double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
            if (run > 0 && elapsed < seconds) seconds = elapsed;
        }
        for (size_t q = 0; q < nq; q++) {
            std::unordered_set<int> gt(truth.begin() + q * dg, truth.begin() + q * dg + k);
            for (auto id : found[q]) hits += gt.count(static_cast<int>(id));
        }
        std::printf("%6d %10.4f %10.0f\n", ef, static_cast<double>(hits) / (nq * k), nq / seconds);
    }
    return 0;
}
