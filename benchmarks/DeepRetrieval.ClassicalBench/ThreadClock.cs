using System.Runtime.InteropServices;

namespace DeepRetrieval.ClassicalBench;

/// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), as Python's time.thread_time() measures it.</summary>
internal static partial class ThreadClock
{
    private const int ThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double Milliseconds()
    {
        if (ClockGetTime(ThreadCpuTimeId, out TimeSpec t) != 0) throw new InvalidOperationException("clock_gettime failed.");
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }
}
