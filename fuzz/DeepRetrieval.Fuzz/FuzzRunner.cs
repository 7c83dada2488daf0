using System.Diagnostics;

namespace DeepRetrieval.Fuzz;

/// <summary>An input that made a loader fail in an undocumented way (or take longer than <see cref="FuzzRunner.SlowInput"/>).</summary>
internal sealed record FuzzFinding(string Target, byte[] Input, string Problem);

/// <summary>What a mutation run did.</summary>
internal sealed record FuzzRunSummary(string Target, long Inputs, long Accepted, TimeSpan Elapsed, IReadOnlyList<FuzzFinding> Findings)
{
    public double InputsPerSecond => Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>Runs inputs through a target and tells documented rejections from findings.</summary>
internal static class FuzzRunner
{
    /// <summary>An input slower than this is reported: a loader must reject bad files quickly, never hang.</summary>
    public static readonly TimeSpan SlowInput = TimeSpan.FromSeconds(5);

    /// <summary>Runs one input; null when the target loaded it or rejected it with a documented exception, else the problem.</summary>
    public static string? Execute(IFuzzTarget target, byte[] input, out bool accepted)
    {
        accepted = false;
        try
        {
            target.Run(input);
            accepted = true;
            return null;
        }
        catch (Exception e) when (target.IsDocumented(e))
        {
            return null;
        }
        catch (Exception e)
        {
            return e.ToString();
        }
    }

    /// <summary>
    /// The in-process fuzzer: every seed first, then <paramref name="inputs"/> mutations (or until <paramref name="duration"/>
    /// passes), each of a seed or of an earlier input the target accepted, repaired by the target before it runs. Inputs the
    /// target accepts join the corpus (up to 256), so later mutations start from valid variants.
    /// </summary>
    public static FuzzRunSummary RunMutations(IFuzzTarget target, long inputs, ulong seed, TimeSpan? duration = null,
        Action<FuzzFinding>? onFinding = null, Action<long, TimeSpan>? onProgress = null, int maxFindings = 20)
    {
        var corpus = target.CreateSeeds().Select(s => s.Bytes).ToList();
        if (corpus.Count == 0)
            throw new InvalidOperationException($"Target {target.Name} has no seeds.");
        var mutator = new Mutator(seed);
        var findings = new List<FuzzFinding>();
        var seenProblems = new HashSet<string>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        long run = 0, accepted = 0;
        var lastProgress = TimeSpan.Zero;

        void Try(byte[] input)
        {
            long before = clock.ElapsedTicks;
            string? problem = Execute(target, input, out bool ok);
            var took = TimeSpan.FromTicks((long)((clock.ElapsedTicks - before) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency)));
            run++;
            if (ok)
            {
                accepted++;
                if (corpus.Count < 256) corpus.Add(input);
            }
            if (problem is null && took > SlowInput)
                problem = $"took {took.TotalSeconds:F1} s";
            // One finding per distinct problem (its first line and top frame), so a run does not stop on repeats of one bug.
            if (problem is not null && seenProblems.Add(Signature(problem)) && findings.Count < maxFindings)
            {
                var finding = new FuzzFinding(target.Name, input, problem);
                findings.Add(finding);
                onFinding?.Invoke(finding);
            }
            if (onProgress is not null && clock.Elapsed - lastProgress > TimeSpan.FromSeconds(30))
            {
                lastProgress = clock.Elapsed;
                onProgress(run, clock.Elapsed);
            }
        }

        foreach (byte[] seedInput in corpus.ToArray())
            Try(seedInput);
        for (long i = 0; i < inputs && (duration is null || clock.Elapsed < duration); i++)
        {
            byte[] parent = corpus[mutator.Below(corpus.Count)];
            byte[] mutated = mutator.Mutate(parent, corpus, target.MutableLength(parent));
            // One in eight inputs keeps its broken integrity fields, so the checks themselves are fuzzed too.
            Try(mutator.Below(8) == 0 ? mutated : target.Repair(mutated));
        }
        return new FuzzRunSummary(target.Name, run, accepted, clock.Elapsed, findings);
    }

    private static string Signature(string problem)
    {
        string[] lines = problem.Split('\n', 3);
        string first = lines[0];
        int colon = first.IndexOf(':', StringComparison.Ordinal);
        return (colon > 0 ? first[..colon] : first) + "|" + (lines.Length > 1 ? lines[1].Trim() : "");
    }
}
