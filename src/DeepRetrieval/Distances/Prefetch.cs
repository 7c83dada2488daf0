using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace DeepRetrieval.Distances;

/// <summary>
/// Software prefetch hints for the graph searches. x86's <c>PREFETCHT0</c> where the CPU has it; elsewhere (ARM64, or
/// x86 with hardware intrinsics disabled) nothing, which costs speed only: a prefetch never changes a result.
/// </summary>
internal static class Prefetch
{
    /// <summary>Asks for the cache line holding <paramref name="address"/> to be loaded into every cache level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line(void* address)
    {
        // A JIT-time constant: the branch and the call vanish where SSE is absent, and only the hint remains where present.
        if (Sse.IsSupported) Sse.Prefetch0(address);
    }
}
