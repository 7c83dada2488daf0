// Reference numbers for HnswIndex: native hnswlib (Debian's libhnswlib-dev headers) on the same
// base/query/groundtruth files, one query at a time. Defaults: M=16, efConstruction=200, one build thread,
// ef = 10, 14, 20, 28, 40. Usage: hnswlib_bench DIR [runs] [M] [efConstruction] [build threads] [ef,ef,...]
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
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

// Resident memory now and at its peak (kB), from /proc/self/status; -1 where it is missing.
static long status_kb(const char* key) {
    std::ifstream status("/proc/self/status");
    std::string line, prefix = std::string(key) + ":";
    while (std::getline(status, line))
        if (line.compare(0, prefix.size(), prefix) == 0) return std::atol(line.c_str() + prefix.size());
    return -1;
}

int main(int argc, char** argv) {
    std::string dir = argc > 1 ? argv[1] : ".";
    // Timed passes per ef after one warm-up pass; match AnnBench's --runs when comparing.
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    const int k = 10;
    const int M = argc > 3 ? std::atoi(argv[3]) : 16;
    const int efConstruction = argc > 4 ? std::atoi(argv[4]) : 200;
    const int threads = argc > 5 ? std::max(1, std::atoi(argv[5])) : 1;
    std::vector<int> efs = {10, 14, 20, 28, 40};
    if (argc > 6) {
        efs.clear();
        std::stringstream list(argv[6]);
        for (std::string item; std::getline(list, item, ',');) efs.push_back(std::atoi(item.c_str()));
    }
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
    if (threads == 1) {
        for (size_t i = 0; i < nb; i++) index.addPoint(&base[i * d], i);
    } else {
        // As hnswlib's Python binding adds in parallel: the first point alone, then threads take the next row.
        index.addPoint(&base[0], 0);
        std::atomic<size_t> next{1};
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; t++)
            workers.emplace_back([&] {
                for (size_t i = next++; i < nb; i = next++) index.addPoint(&base[i * d], i);
            });
        for (auto& w : workers) w.join();
    }
    double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t linkBytes = nb * index.size_data_per_element_;
    size_t upperBytes = 0;
    for (size_t i = 0; i < nb; i++) upperBytes += index.element_levels_[i] * index.size_links_per_element_;
    std::printf("build %.2f s (%d thread(s)), data+level0 %.1f MB, upper layers %.1f MB\n", build, threads, linkBytes / 1e6, upperBytes / 1e6);

    std::printf("VmRSS %.1f MB, VmHWM %.1f MB (the base vectors, %.1f MB, are held besides the index)\n",
                status_kb("VmRSS") / 1024.0, status_kb("VmHWM") / 1024.0, base.size() * 4 / 1048576.0);
    std::printf("%6s %10s %10s\n", "ef", "recall@10", "QPS");
    for (int ef : efs) {
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
