// Measures what docs/benchmarks.md "Memory-mapped indexes" reports: the time IndexFile.Map takes to open a large HNSW
// file (page cache warm, and cold after evicting the file's pages), IndexFile.Load's time for comparison, and one-query
// search QPS of the mapped index against the loaded one in interleaved rounds; then the same for an IVF file, with the
// process's resident memory after opening and after searching.
using System.Diagnostics;
using System.Runtime.InteropServices;
using DeepRetrieval;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Hnsw;

var options = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length ? args[p.i + 1] : "");
int Int(string name, int fallback) => options.TryGetValue(name, out string? v) ? int.Parse(v) : fallback;
int n = Int("n", 1_000_000), dim = Int("dim", 32), m = Int("m", 16), efc = Int("efc", 64), threads = Int("threads", 2);
int queries = Int("queries", 10_000), rounds = Int("rounds", 3), ef = Int("ef", 64), lists = Int("lists", 1024), nprobe = Int("nprobe", 16);
string dir = options.GetValueOrDefault("dir", "/tmp/mmap-bench");
string what = options.GetValueOrDefault("what", "hnsw,ivf");
Directory.CreateDirectory(dir);

float[] data = GaussianMixture(n, dim, 1000, seed: 1);
float[] query = GaussianMixture(queries, dim, 1000, seed: 2, centersSeed: 1);
Console.WriteLine($"data {n} x {dim} (Gaussian mixture, 1000 centres), {queries} queries; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Trim()}");

if (what == "open")
{
    // Open times only, of files built by earlier runs.
    foreach (string file in Directory.GetFiles(dir, "*.dri").Order()) { Console.WriteLine(file); OpenTimes(file); }
    return;
}
if (what.Contains("hnsw")) RunHnsw();
if (what.Contains("ivf")) RunIvf();
if (what.Contains("flat")) RunFlat();

void RunHnsw()
{
    string path = Path.Combine(dir, $"hnsw{m}-{n}x{dim}-efc{efc}.dri");
    if (!File.Exists(path))
    {
        var build = new HnswIndex(dim, Metric.L2, m, efc);
        build.BuildThreads = threads;
        var watch = Stopwatch.StartNew();
        build.Add(data);
        Console.WriteLine($"HNSW{m} efConstruction {efc} build on {threads} threads: {watch.Elapsed.TotalSeconds:F1} s");
        IndexFile.Save(build, path);
    }
    Console.WriteLine($"file {path}: {new FileInfo(path).Length / 1e6:F0} MB");
    OpenTimes(path);
    SearchRounds(path, index => index.SetSearchParameter("ef", ef), $"ef {ef}");
}

void RunIvf()
{
    string path = Path.Combine(dir, $"ivf{lists}-flat-{n}x{dim}.dri");
    if (!File.Exists(path))
    {
        IVectorIndex build = IndexFactory.Create(dim, $"IVF{lists},Flat");
        var watch = Stopwatch.StartNew();
        build.Train(data.AsSpan(0, Math.Min(n, 64 * lists) * dim));
        build.Add(data);
        Console.WriteLine($"IVF{lists},Flat train + add: {watch.Elapsed.TotalSeconds:F1} s");
        IndexFile.Save(build, path);
    }
    Console.WriteLine($"file {path}: {new FileInfo(path).Length / 1e6:F0} MB");
    OpenTimes(path);
    SearchRounds(path, index => index.SetSearchParameter("nprobe", nprobe), $"nprobe {nprobe}");
}

void RunFlat()
{
    string path = Path.Combine(dir, $"flat-{n}x{dim}.dri");
    if (!File.Exists(path))
    {
        IVectorIndex build = IndexFactory.Create(dim, "Flat");
        build.Add(data);
        IndexFile.Save(build, path);
    }
    Console.WriteLine($"file {path}: {new FileInfo(path).Length / 1e6:F0} MB");
    OpenTimes(path);
    // An exact scan of a million vectors per query: fewer queries.
    queries = Math.Min(queries, Int("flat-queries", 500));
    SearchRounds(path, _ => { }, "exact");
}

void OpenTimes(string path)
{
    var warm = new List<double>();
    var cpu = new List<double>();
    for (int i = 0; i < 21; i++)
    {
        GC.Collect();
        // CPU time of this thread too: on a loaded machine the wall time includes the time the thread waited for a core.
        TimeSpan cpuBefore = ThreadCpu();
        var watch = Stopwatch.StartNew();
        using VectorIndex index = IndexFile.Map(path);
        warm.Add(watch.Elapsed.TotalMilliseconds);
        cpu.Add((ThreadCpu() - cpuBefore).TotalMilliseconds);
    }
    var cold = new List<double>();
    for (int i = 0; i < 3; i++)
    {
        Evict(path);
        var watch = Stopwatch.StartNew();
        using VectorIndex index = IndexFile.Map(path);
        cold.Add(watch.Elapsed.TotalMilliseconds);
    }
    var load = new List<double>();
    for (int i = 0; i < 3; i++)
    {
        var watch = Stopwatch.StartNew();
        IVectorIndex index = IndexFile.Load(path);
        load.Add(watch.Elapsed.TotalMilliseconds);
        GC.KeepAlive(index);
        GC.Collect();
    }
    var verify = Stopwatch.StartNew();
    using (VectorIndex index = IndexFile.Map(path)) index.Mapping!.VerifyChecksum();
    Console.WriteLine($"Map, page cache warm (first is JIT): {Format(warm)} ms; median of the rest {Median(warm.Skip(1)):F1} ms");
    Console.WriteLine($"  thread CPU time of the same opens:  {Format(cpu)} ms; median of the rest {Median(cpu.Skip(1)):F1} ms");
    Console.WriteLine($"Map, file's pages evicted first:      {Format(cold)} ms");
    Console.WriteLine($"Load (reads, checks and copies all):  {Format(load)} ms");
    Console.WriteLine($"Map + VerifyChecksum (warm):          {verify.Elapsed.TotalMilliseconds:F0} ms");
}

void SearchRounds(string path, Action<IVectorIndex> configure, string setting)
{
    GC.Collect();
    long before = Environment.WorkingSet;
    IVectorIndex loaded = IndexFile.Load(path);
    GC.Collect();
    long afterLoad = Environment.WorkingSet;
    Evict(path);
    long beforeMap = Environment.WorkingSet;
    using VectorIndex mapped = IndexFile.Map(path);
    long afterMap = Environment.WorkingSet;
    configure(loaded);
    configure(mapped);
    var ids = new long[10];
    var distances = new float[10];
    var coldWatch = Stopwatch.StartNew();
    int coldQueries = Math.Min(1000, queries);
    for (int q = 0; q < coldQueries; q++) mapped.Search(query.AsSpan(q * dim, dim), 10, ids, distances);
    double coldQps = coldQueries / coldWatch.Elapsed.TotalSeconds;
    long afterColdSearch = Environment.WorkingSet;
    // Same answers, bit for bit.
    SearchResult a = loaded.Search(query.AsSpan(0, queries * dim), 10), b = mapped.Search(query.AsSpan(0, queries * dim), 10);
    int differing = 0;
    for (int i = 0; i < a.Ids.Length; i++)
        if (a.Ids[i] != b.Ids[i] || BitConverter.SingleToInt32Bits(a.Distances[i]) != BitConverter.SingleToInt32Bits(b.Distances[i])) differing++;
    Console.WriteLine($"{setting}: {differing} of {a.Ids.Length} results differ between mapped and loaded");
    Console.WriteLine($"resident memory: Load +{(afterLoad - before) / 1e6:F0} MB; Map +{(afterMap - beforeMap) / 1e6:F0} MB at open, +{(afterColdSearch - beforeMap) / 1e6:F0} MB after {coldQueries} searches from a cold page cache ({coldQps:F0} QPS cold)");
    Qps(mapped, 0, queries); // warm-up: JIT and page cache
    Qps(loaded, 0, queries);
    var loadedQps = new List<double>();
    var mappedQps = new List<double>();
    const int block = 1000;
    for (int r = 0; r < rounds; r++)
    {
        // Blocks of 1,000 queries alternate between the two, so both see the same machine load within a round.
        double loadedSeconds = 0, mappedSeconds = 0;
        for (int first = 0; first < queries; first += block)
        {
            int count = Math.Min(block, queries - first);
            loadedSeconds += count / Qps(loaded, first, count);
            mappedSeconds += count / Qps(mapped, first, count);
        }
        loadedQps.Add(queries / loadedSeconds);
        mappedQps.Add(queries / mappedSeconds);
        Console.WriteLine($"round {r + 1}: loaded {loadedQps[^1]:F0} QPS, mapped {mappedQps[^1]:F0} QPS, ratio {mappedQps[^1] / loadedQps[^1]:F3}");
    }
    Console.WriteLine($"one thread, one query at a time, {setting}: loaded median {Median(loadedQps):F0} QPS, mapped median {Median(mappedQps):F0} QPS, ratio of medians {Median(mappedQps) / Median(loadedQps):F3}; load {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine($"MemoryUsageBytes: loaded {loaded.MemoryUsageBytes / 1e6:F0} MB, mapped {mapped.MemoryUsageBytes / 1e6:F0} MB (managed heap only)");
    GC.KeepAlive(loaded);
}

double Qps(IVectorIndex index, int first, int count)
{
    var ids = new long[10];
    var distances = new float[10];
    var watch = Stopwatch.StartNew();
    for (int q = first; q < first + count; q++) index.Search(query.AsSpan(q * dim, dim), 10, ids, distances);
    return count / watch.Elapsed.TotalSeconds;
}

static string Format(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("F1")));

static double Median(IEnumerable<double> values)
{
    double[] sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

// Drops the file's pages from the page cache (POSIX_FADV_DONTNEED), so the next open reads from disk.
static void Evict(string path)
{
    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
    _ = NativeMethods.posix_fadvise((int)stream.SafeFileHandle.DangerousGetHandle(), 0, 0, 4);
}

static float[] GaussianMixture(int rows, int dim, int centers, int seed, int? centersSeed = null)
{
    var centerRandom = new Random(centersSeed ?? seed);
    var means = new float[centers * dim];
    for (int i = 0; i < means.Length; i++) means[i] = (float)Normal(centerRandom);
    var random = new Random(seed + 1000);
    var result = new float[(long)rows * dim];
    for (int r = 0; r < rows; r++)
    {
        int c = random.Next(centers);
        for (int j = 0; j < dim; j++) result[(long)r * dim + j] = means[c * dim + j] + 0.35f * (float)Normal(random);
    }
    return result;
}

static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

// CLOCK_THREAD_CPUTIME_ID: CPU time the calling thread consumed.
static TimeSpan ThreadCpu()
{
    NativeMethods.clock_gettime(3, out NativeMethods.TimeSpec time);
    return TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100);
}

static partial class NativeMethods
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    internal static partial int clock_gettime(int clock, out TimeSpec time);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int posix_fadvise(int fd, long offset, long length, int advice);
}
