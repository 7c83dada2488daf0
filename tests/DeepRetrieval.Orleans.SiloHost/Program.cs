using DeepRetrieval.Orleans.SiloHost;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: DeepRetrieval.Orleans.SiloHost <connection string> <cluster id> <silo port> <gateway port>
if (args.Length != 4 || !int.TryParse(args[2], out int siloPort) || !int.TryParse(args[3], out int gatewayPort))
{
    Console.Error.WriteLine("usage: DeepRetrieval.Orleans.SiloHost <connection string> <cluster id> <silo port> <gateway port>");
    return 2;
}
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.UseOrleans(silo => PostgresSilo.Configure(silo, args[0], args[1], siloPort, gatewayPort));
using IHost host = builder.Build();
await host.StartAsync();
Console.WriteLine("READY");
await host.WaitForShutdownAsync();
return 0;
