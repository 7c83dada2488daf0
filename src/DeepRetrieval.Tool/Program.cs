using System.Globalization;
using DeepRetrieval.Tool;
using DeepRetrieval.Tool.Console;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
using var cancel = new CancellationTokenSource();
// The first Ctrl+C asks the command to stop (an index run saves what it has); a second one ends the process at once.
System.Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested)
        return;
    e.Cancel = true;
    cancel.Cancel();
};
using ToolConsole console = ToolConsole.ForProcess();
return await ToolCommandLine.RunAsync(args, console, cancel.Token);
