using System.Globalization;

namespace DeepRetrieval.ScaleBench;

/// <summary>The process's resident memory now (VmRSS) and at its peak (VmHWM), from /proc/self/status.</summary>
internal static class ProcessMemory
{
    public static string Describe()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return FormattableString.Invariant(
            $"VmRSS {Read("VmRSS:") / 1024.0:F1} MB, VmHWM {Read("VmHWM:") / 1024.0:F1} MB, managed heap {GC.GetTotalMemory(false) / 1048576.0:F1} MB");
    }

    // Kilobytes, or -1 where /proc is missing.
    private static long Read(string key)
    {
        if (!File.Exists("/proc/self/status")) return -1;
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return -1;
    }
}
