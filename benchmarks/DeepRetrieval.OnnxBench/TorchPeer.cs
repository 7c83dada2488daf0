using System.Diagnostics;
using System.Globalization;

namespace DeepRetrieval.OnnxBench;

/// <summary>The Python process running torchvision's resnet18 (torch_resnet18_peer.py), driven over stdin/stdout.</summary>
internal sealed class TorchPeer : IDisposable
{
    private readonly Process _process;

    public TorchPeer(string python, string imagesNpy, string? exportOnnx, bool capIsa, bool passiveWait = false)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "torch_resnet18_peer.py"));
        start.ArgumentList.Add("--images");
        start.ArgumentList.Add(imagesNpy);
        if (exportOnnx is not null)
        {
            start.ArgumentList.Add("--export");
            start.ArgumentList.Add(exportOnnx);
        }
        if (capIsa) start.Environment["DNNL_MAX_CPU_ISA"] = "AVX";
        else start.Environment.Remove("DNNL_MAX_CPU_ISA");
        // OpenMP threads sleep instead of spinning between parallel regions: PyTorch's counterpart of ONNX Runtime's allow_spinning=0.
        if (passiveWait) start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        else start.Environment.Remove("OMP_WAIT_POLICY");
        _process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {python}.");
        string ready = ReadLine();
        if (!ready.StartsWith("ready", StringComparison.Ordinal))
            throw new InvalidOperationException($"The PyTorch peer did not start: '{ready}'.");
        Versions = ready["ready".Length..].Trim();
    }

    /// <summary>torch and torchvision versions, as the peer reports them.</summary>
    public string Versions { get; }

    /// <summary>Embeds the first <paramref name="count"/> images in batches; returns PyTorch's own elapsed seconds.</summary>
    public double Run(int threads, int batch, int count)
    {
        _process.StandardInput.WriteLine($"run {threads} {batch} {count}");
        _process.StandardInput.Flush();
        return double.Parse(ReadLine(), CultureInfo.InvariantCulture);
    }

    /// <summary>Writes the embeddings of the first <paramref name="count"/> images to an .npy file.</summary>
    public void Dump(int count, string path)
    {
        _process.StandardInput.WriteLine($"dump {count} {path}");
        _process.StandardInput.Flush();
        string reply = ReadLine();
        if (reply != "ok") throw new InvalidOperationException($"The PyTorch peer failed to dump: '{reply}'.");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.WriteLine("quit");
            _process.StandardInput.Flush();
            if (!_process.WaitForExit(10_000)) _process.Kill();
        }
        _process.Dispose();
    }

    private string ReadLine() =>
        _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"The PyTorch peer exited (code {(_process.HasExited ? _process.ExitCode : -1)}).");
}
