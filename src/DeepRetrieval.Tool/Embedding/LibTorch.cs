using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace DeepRetrieval.Tool.Embedding;

/// <summary>
/// Finds and loads libtorch, which the tool does not ship (hundreds of MB per platform): from the folder named by
/// <see cref="EnvironmentVariable"/>, else from the NuGet cache's <c>libtorch-cpu-&lt;rid&gt;/&lt;version&gt;</c> package that any
/// project referencing TorchSharp-cpu restores. Its libraries are loaded by full path in dependency order before TorchSharp
/// loads its bindings (libLibTorchSharp, shipped with the tool), so the dynamic loader satisfies the bindings' dependencies
/// on libtorch by soname from what is already loaded.
/// </summary>
internal static class LibTorch
{
    /// <summary>The variable naming a folder with libtorch's libraries (e.g. libtorch's <c>lib/</c> or a package's <c>runtimes/&lt;rid&gt;/native</c>).</summary>
    public const string EnvironmentVariable = "DEEPRETRIEVAL_LIBTORCH";

    /// <summary>The TorchSharp version whose bindings the tool carries (its TorchSharp-cpu package depends on libtorch <see cref="Version"/>).</summary>
    public static string TorchSharpVersion { get; } = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";

    private static readonly Lock Gate = new();
    private static string? s_loadedFrom;

    /// <summary>The libtorch version TorchSharp was built against (from the build).</summary>
    public static string Version { get; } =
        typeof(LibTorch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "LibTorchVersion")?.Value ?? "unknown";

    /// <summary>The runtime identifier of libtorch's NuGet packages for this machine, or null when there is none.</summary>
    public static string? RuntimeId => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 when OperatingSystem.IsLinux() => "linux-x64",
        Architecture.X64 when OperatingSystem.IsWindows() => "win-x64",
        Architecture.Arm64 when OperatingSystem.IsMacOS() => "osx-arm64",
        _ => null,
    };

    /// <summary>libtorch's libraries in dependency order (c10, then torch_cpu, then torch).</summary>
    public static IReadOnlyList<string> LibraryFiles { get; } =
        OperatingSystem.IsWindows() ? ["c10.dll", "torch_cpu.dll", "torch.dll"]
        : OperatingSystem.IsMacOS() ? ["libc10.dylib", "libtorch_cpu.dylib", "libtorch.dylib"]
        : ["libc10.so", "libtorch_cpu.so", "libtorch.so"];

    /// <summary>The folder the NuGet cache holds libtorch in for this machine, whether it exists or not (null when no package exists for it).</summary>
    public static string? NuGetCacheFolder()
    {
        if (RuntimeId is not string rid)
            return null;
        string? packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrWhiteSpace(packages))
            packages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, $"libtorch-cpu-{rid}", Version, "runtimes", rid, "native");
    }

    /// <summary>
    /// The folder to load libtorch from: <see cref="EnvironmentVariable"/> when set (it must hold the libraries), else the NuGet
    /// cache's package when present.
    /// </summary>
    /// <exception cref="ToolError">No libtorch was found; the message says what to install or set.</exception>
    public static string Find()
    {
        string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            string folder = Path.GetFullPath(configured);
            string[] missing = [.. LibraryFiles.Where(f => !File.Exists(Path.Combine(folder, f)))];
            if (missing.Length > 0)
                throw new ToolError(
                    $"{EnvironmentVariable}='{configured}' has no {string.Join(", ", missing)}: point it at the folder holding libtorch {Version}'s libraries " +
                    $"({string.Join(", ", LibraryFiles)}), e.g. libtorch's lib/ folder or {NuGetCacheFolder() ?? "a libtorch-cpu package's runtimes/<rid>/native"}.");
            return folder;
        }
        string? cached = NuGetCacheFolder();
        if (cached is not null && LibraryFiles.All(f => File.Exists(Path.Combine(cached, f))))
            return cached;
        throw new ToolError(
            $"This model runs with TorchSharp, which needs libtorch {Version} (CPU) and the tool does not ship it: restore it once with " +
            $"'dotnet new console -o torch-restore && dotnet add torch-restore package TorchSharp-cpu --version {TorchSharpVersion}' " +
            $"(it lands in {cached ?? "the NuGet cache"}), or set {EnvironmentVariable} to a folder holding {string.Join(", ", LibraryFiles)}.");
    }

    /// <summary>
    /// Makes TorchSharp usable: finds libtorch (<see cref="Find"/>), loads it, then initialises TorchSharp's CPU backend. Once per
    /// process; later calls only check that the libraries are still where the variable says.
    /// </summary>
    /// <returns>The folder libtorch was loaded from.</returns>
    /// <exception cref="ToolError">libtorch was not found or does not load; the message says why and what to do.</exception>
    public static string EnsureLoaded()
    {
        string folder = Find();
        lock (Gate)
        {
            if (s_loadedFrom is not null)
                return s_loadedFrom;
            foreach (string file in LibraryFiles)
            {
                string path = Path.Combine(folder, file);
                try
                {
                    NativeLibrary.Load(path);
                }
                catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
                {
                    throw new ToolError($"Cannot load libtorch from '{folder}' ({file}: {ModelLoader.OneLine(e.Message)}); it must be libtorch {Version} (CPU) for {RuntimeId ?? RuntimeInformation.RuntimeIdentifier}.");
                }
            }
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
            {
                string reason = ModelLoader.OneLine((e.InnerException ?? e).Message);
                throw new ToolError($"TorchSharp {TorchSharpVersion} does not start with the libtorch in '{folder}' (it needs libtorch {Version}): {reason}");
            }
            s_loadedFrom = folder;
            return folder;
        }
    }
}
