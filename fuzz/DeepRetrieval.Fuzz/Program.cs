using System.Globalization;
using DeepRetrieval.Fuzz;

// The fuzzing harness of every file loader. Commands:
//   list                                   the targets
//   seed <target|all> <dir>                write the seed corpus (files the library writes) to <dir>/<target>/
//   mutate <target> [--inputs N] [--minutes M] [--seed S] [--findings <dir>]
//                                          the in-process mutation fuzzer (also what CI's short run uses)
//   afl <target>                           one AFL++ persistent-mode loop through SharpFuzz (started by fuzz/run.sh)
//   replay <target> <file>...              run saved inputs and say what each did
// Exit code 0: nothing found; 1: findings (written to --findings); 2: usage error.
return Cli.Run(args);

internal static class Cli
{
    public static int Run(string[] args)
    {
        try
        {
            return args switch
            {
                ["list"] => List(),
                ["seed", var target, var dir] => Seed(target, dir),
                ["mutate", var target, .. var rest] => Mutate(FuzzTargets.Find(target), rest),
                ["afl", var target] => Afl(FuzzTargets.Find(target)),
                ["replay", var target, .. var files] when files.Length > 0 => Replay(FuzzTargets.Find(target), files),
                _ => Usage(),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: DeepRetrieval.Fuzz list | seed <target|all> <dir> | mutate <target> [--inputs N] [--minutes M] [--seed S] [--findings dir] | afl <target> | replay <target> <file>...");
        return 2;
    }

    private static int List()
    {
        foreach (var target in FuzzTargets.All)
            Console.WriteLine($"{target.Name,-16} {target.Description}");
        return 0;
    }

    private static int Seed(string name, string dir)
    {
        var targets = name == "all" ? FuzzTargets.All : [FuzzTargets.Find(name)];
        foreach (var target in targets)
        {
            string folder = Path.Combine(dir, target.Name);
            Directory.CreateDirectory(folder);
            foreach (var (file, bytes) in target.CreateSeeds())
                File.WriteAllBytes(Path.Combine(folder, file), bytes);
            Console.WriteLine($"{target.Name}: {Directory.GetFiles(folder).Length} seeds in {folder}");
        }
        return 0;
    }

    private static int Mutate(IFuzzTarget target, string[] options)
    {
        long inputs = long.MaxValue;
        TimeSpan? duration = null;
        ulong seed = 1;
        string? findingsDir = null;
        for (int i = 0; i + 1 < options.Length; i += 2)
        {
            string value = options[i + 1];
            switch (options[i])
            {
                case "--inputs": inputs = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--minutes": duration = TimeSpan.FromMinutes(double.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--seed": seed = ulong.Parse(value, CultureInfo.InvariantCulture); break;
                case "--findings": findingsDir = value; break;
                default: throw new ArgumentException($"Unknown option {options[i]}.");
            }
        }
        if (inputs == long.MaxValue && duration is null)
            throw new ArgumentException("Give --inputs or --minutes.");
        var summary = FuzzRunner.RunMutations(target, inputs, seed, duration,
            onFinding: finding =>
            {
                Console.WriteLine($"FINDING {finding.Target}: {finding.Problem}");
                if (findingsDir is not null)
                {
                    Directory.CreateDirectory(findingsDir);
                    string file = Path.Combine(findingsDir, $"{finding.Target}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(finding.Input))[..16]}");
                    File.WriteAllBytes(file, finding.Input);
                    File.WriteAllText(file + ".txt", finding.Problem);
                }
            },
            onProgress: (run, elapsed) => Console.WriteLine(FormattableString.Invariant($"{target.Name}: {run:N0} inputs, {elapsed.TotalMinutes:F1} min, {run / elapsed.TotalSeconds:F0}/s")));
        Console.WriteLine(FormattableString.Invariant(
            $"{summary.Target}: {summary.Inputs:N0} inputs ({summary.Accepted:N0} loaded) in {summary.Elapsed.TotalMinutes:F1} min, {summary.InputsPerSecond:F0} inputs/s, {summary.Findings.Count} findings"));
        return summary.Findings.Count == 0 ? 0 : 1;
    }

    private static int Afl(IFuzzTarget target)
    {
        // SharpFuzz runs the action once per input AFL++ hands over; an exception that escapes is a crash.
        SharpFuzz.Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] input = target.Repair(buffer.ToArray());
            try
            {
                target.Run(input);
            }
            catch (Exception e) when (target.IsDocumented(e))
            {
            }
        });
        return 0;
    }

    private static int Replay(IFuzzTarget target, string[] files)
    {
        int failures = 0;
        foreach (string file in files)
        {
            string? problem = FuzzRunner.Execute(target, target.Repair(File.ReadAllBytes(file)), out bool accepted);
            Console.WriteLine($"{file}: {(problem is not null ? "FINDING " + problem : accepted ? "loaded" : "rejected with a documented exception")}");
            if (problem is not null) failures++;
        }
        return failures == 0 ? 0 : 1;
    }
}
