using System.Runtime.Intrinsics.X86;
using DeepRetrieval.Torch.Backbones;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests;

public sealed class OneDnnCacheGuardTests
{
    [Fact]
    public void OnACpuThatHidesItsCaches_OneDnnIsLimitedToAvx_UnlessTheUserChose()
    {
        bool hidden = OneDnnCacheGuard.CpuHidesCacheTopology();
        string? isa = OneDnnCacheGuard.NativeEnvironmentValue("DNNL_MAX_CPU_ISA");
        bool userChose = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null
                         || Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is not null;
        if (hidden && !userChose)
        {
            OneDnnCacheGuard.Applied.Should().BeTrue();
            isa.Should().Be(OneDnnCacheGuard.SafeIsa);
        }
        else
        {
            OneDnnCacheGuard.Applied.Should().BeFalse();
        }
    }

    [Fact]
    public void CacheTopology_IsReportedOnlyWhereCpuIdHasTheLeaf()
    {
        if (!X86Base.IsSupported)
        {
            OneDnnCacheGuard.CpuHidesCacheTopology().Should().BeFalse();
            return;
        }
        // Linux publishes the caches it reads from the same CPUID leaves; where it found none, neither does the guard.
        bool linuxSawCaches = Directory.Exists("/sys/devices/system/cpu/cpu0/cache/index0");
        if (OperatingSystem.IsLinux() && linuxSawCaches)
            OneDnnCacheGuard.CpuHidesCacheTopology().Should().BeFalse();
    }

    [Fact]
    public void StridedConvolutionBackward_RunsOnThisMachine()
    {
        // On a CPU that hides its caches this died with SIGFPE inside oneDNN before the guard existed.
        using var scope = NewDisposeScope();
        manual_seed(3);
        var conv = TorchSharp.torch.nn.Conv2d(8, 16, 3, stride: 2, padding: 1);
        var x = randn(4, 8, 16, 16, requires_grad: true);
        conv.forward(x).pow(2).mean().backward();
        x.grad!.isfinite().all().item<bool>().Should().BeTrue();
        _ = typeof(ResNet); // the guard runs when this assembly loads, before any test here touches libtorch
    }
}
