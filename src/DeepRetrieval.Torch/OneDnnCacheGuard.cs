using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace DeepRetrieval.Torch;

/// <summary>
/// Keeps libtorch's oneDNN from dividing by zero on virtual machines whose CPUID hides the cache topology.
/// </summary>
/// <remarks>
/// <para>oneDNN sizes the blocks of its AVX2 and AVX-512 "brgemm" convolution kernels from the per-core L2 cache size
/// it reads through CPUID (leaf 4 on Intel, leaf 0x8000001D on AMD). Some hypervisors return zeros in those leaves
/// (seen on AMD EPYC Zen 5 guests, where Linux's <c>/sys/devices/system/cpu/cpu0/cache</c> is missing too); oneDNN then divides by a zero cache size and the
/// process dies with SIGFPE in the first strided convolution's backward pass, which no managed code can catch.</para>
/// <para>On such a machine, when the application has not chosen an ISA itself, this sets <c>DNNL_MAX_CPU_ISA=AVX</c>
/// in the native environment as soon as this assembly loads: oneDNN reads it once, at its first primitive, and then
/// uses its AVX kernels, which do not depend on the cache sizes (measured here on the sample's small CNN: as fast as
/// the default kernels, 487–621 against 406–499 images/s; turning oneDNN off instead costs 4×). Every other machine is
/// left alone. Set <c>DNNL_MAX_CPU_ISA</c> or <c>ONEDNN_MAX_CPU_ISA</c> yourself to override it.</para>
/// </remarks>
public static class OneDnnCacheGuard
{
    /// <summary>The ISA the guard limits oneDNN to on machines that hide their caches.</summary>
    public const string SafeIsa = "AVX";

    /// <summary>True when this process set <c>DNNL_MAX_CPU_ISA</c> because the CPU reports no cache topology.</summary>
    public static bool Applied { get; private set; }

    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The variable must be in the native environment before oneDNN's first primitive reads it; a lazy call could come after an application's first convolution.")]
    [ModuleInitializer]
    internal static void Initialize()
    {
        if (!OperatingSystem.IsLinux() || !CpuHidesCacheTopology()) return;
        if (NativeGetEnv("DNNL_MAX_CPU_ISA") != IntPtr.Zero || NativeGetEnv("ONEDNN_MAX_CPU_ISA") != IntPtr.Zero) return;
        Applied = NativeSetEnv("DNNL_MAX_CPU_ISA", SafeIsa, 0) == 0;
    }

    /// <summary>
    /// True on an x86 CPU with AVX2 whose deterministic cache-parameter leaf (4 on Intel, 0x8000001D on AMD) reports
    /// no cache at all, which real CPUs of that age never do.
    /// </summary>
    public static bool CpuHidesCacheTopology()
    {
        if (!X86Base.IsSupported || !Avx2.IsSupported) return false;
        (int maxLeaf, int vendor1, int vendor3, int vendor2) = X86Base.CpuId(0, 0);
        Span<int> vendorWords = [vendor1, vendor2, vendor3];
        string vendor = System.Text.Encoding.ASCII.GetString(MemoryMarshal.AsBytes(vendorWords));
        int cacheLeaf;
        if (vendor == "GenuineIntel")
        {
            if (maxLeaf < 4) return false;
            cacheLeaf = 4;
        }
        else if (vendor is "AuthenticAMD" or "HygonGenuine")
        {
            // Every AMD CPU with AVX2 (the only ones that run the kernels at risk) defines leaf 0x8000001D; a guest can
            // still see it zeroed, with the topology-extensions bit cleared, while the host CPU has it.
            if ((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x8000001Du) return false;
            cacheLeaf = unchecked((int)0x8000001D);
        }
        else
        {
            return false;
        }
        int firstCacheType = X86Base.CpuId(cacheLeaf, 0).Eax & 0x1F; // 0 = no more caches
        return firstCacheType == 0;
    }

    [DllImport("libc.so.6", EntryPoint = "getenv")]
    private static extern IntPtr NativeGetEnv([MarshalAs(UnmanagedType.LPStr)] string name);

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int NativeSetEnv([MarshalAs(UnmanagedType.LPStr)] string name, [MarshalAs(UnmanagedType.LPStr)] string value, int overwrite);

    /// <summary>The native (libc) value of an environment variable, which is what libtorch reads; null when unset.</summary>
    /// <param name="name">Variable name.</param>
    internal static string? NativeEnvironmentValue(string name)
    {
        IntPtr value = NativeGetEnv(name);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(value);
    }
}
