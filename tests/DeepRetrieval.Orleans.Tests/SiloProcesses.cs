using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>Silo processes of one PostgreSQL-backed cluster on this machine (loopback only), killed and reaped on dispose.</summary>
internal sealed class SiloProcesses : IAsyncDisposable
{
    private readonly List<Silo> _silos = [];

    public SiloProcesses(string connectionString, string clusterId)
    {
        ConnectionString = connectionString;
        ClusterId = clusterId;
    }

    public string ConnectionString { get; }

    public string ClusterId { get; }

    public IReadOnlyList<Silo> Silos => _silos;

    /// <summary>Starts <paramref name="count"/> silos and waits until each has joined the cluster.</summary>
    public async Task StartAsync(int count, TimeSpan timeout)
    {
        string host = Path.Combine(AppContext.BaseDirectory, "DeepRetrieval.Orleans.SiloHost.dll");
        for (int i = 0; i < count; i++)
        {
            int siloPort = FreePort(), gatewayPort = FreePort();
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in new[] { host, ConnectionString, ClusterId, siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture), gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(arg);
            var silo = new Silo(Process.Start(start)!, siloPort, gatewayPort);
            _silos.Add(silo);
            // The first silo joins alone (it creates the cluster's membership version row); the others start together.
            if (i == 0) await silo.Ready.WaitAsync(timeout).ConfigureAwait(false);
        }
        await Task.WhenAll(_silos.Select(s => s.Ready)).WaitAsync(timeout).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Silo silo in _silos)
        {
            if (!silo.Process.HasExited) silo.Process.Kill(entireProcessTree: true);
            await silo.Process.WaitForExitAsync().ConfigureAwait(false);
            silo.Process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal sealed class Silo
    {
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StringBuilder _log = new();

        public Silo(Process process, int siloPort, int gatewayPort)
        {
            Process = process;
            SiloPort = siloPort;
            GatewayPort = gatewayPort;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                Append(e.Data);
                if (e.Data == "READY") _ready.TrySetResult();
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null) Append(e.Data);
            };
            process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"The silo on port {siloPort} exited before it was ready:\n{Log}"));
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public int SiloPort { get; }

        public int GatewayPort { get; }

        public Task Ready => _ready.Task;

        public string Log
        {
            get
            {
                lock (_log) return _log.ToString();
            }
        }

        /// <summary>True when an Orleans silo identity (<c>S127.0.0.1:port:generation</c>) is this process.</summary>
        public bool Hosts(string siloIdentity) => siloIdentity.Contains($":{SiloPort}:", StringComparison.Ordinal);

        /// <summary>SIGKILL: no shutdown, no flush, no leaving the cluster.</summary>
        public void Kill() => Process.Kill();

        private void Append(string line)
        {
            lock (_log) _log.AppendLine(line);
        }
    }
}
