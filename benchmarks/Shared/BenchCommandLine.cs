using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace DeepRetrieval.Bench;

/// <summary>
/// What every benchmark's command line shares (linked into each project): parse errors as "error: ..." lines with exit
/// code 2, and the range checks the options need.
/// </summary>
internal static class BenchCommandLine
{
    /// <summary>Exit code for options the parser or a validator rejected.</summary>
    public const int BadOptions = 2;

    /// <summary>Exit code for a run that failed on its input files.</summary>
    public const int RunFailed = 1;

    /// <summary>
    /// Parses <paramref name="args"/>; on errors prints them and returns <see cref="BadOptions"/>, else runs the command's
    /// action, turning a missing or bad input file into one "error: ..." line and <see cref="RunFailed"/>.
    /// </summary>
    public static int Invoke(RootCommand command, string[] args)
    {
        ParseResult parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for the options.");
            return BadOptions;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // Missing or unreadable input files: one line, not a stack trace.
            Console.Error.WriteLine($"error: {e.Message}");
            return RunFailed;
        }
    }

    /// <summary>Rejects values below <paramref name="min"/>, naming the option.</summary>
    public static T AtLeast<T>(this T symbol, int min) where T : Symbol
    {
        switch (symbol)
        {
            case Option<int> option:
                option.Validators.Add(result =>
                {
                    if (!Converts(result)) return;
                    int value = result.GetValueOrDefault<int>();
                    if (value < min) result.AddError($"{option.Name} must be at least {min}; got {value}.");
                });
                break;
            case Option<int?> option:
                option.Validators.Add(result =>
                {
                    if (Converts(result) && result.GetValueOrDefault<int?>() is int value && value < min)
                        result.AddError($"{option.Name} must be at least {min}; got {value}.");
                });
                break;
            case Argument<int> argument:
                argument.Validators.Add(result =>
                {
                    if (!Converts(result)) return;
                    int value = result.GetValueOrDefault<int>();
                    if (value < min) result.AddError($"<{argument.Name}> must be at least {min}; got {value}.");
                });
                break;
            default:
                throw new ArgumentException($"AtLeast takes an Option<int>, Option<int?> or Argument<int>, not {symbol.GetType().Name}.", nameof(symbol));
        }
        return symbol;
    }

    /// <summary>
    /// Adds a check across several options. Options left at their default read as default(T) here, so check only values
    /// that were given. It runs only when every value converted: System.CommandLine runs validators
    /// even after a conversion error (which it reports itself), and reading such a value would throw.
    /// </summary>
    public static void AddCrossCheck(this Command command, Action<CommandResult> check) =>
        command.Validators.Add(result =>
        {
            try
            {
                check(result);
            }
            catch (InvalidOperationException)
            {
                // A value did not convert; the parser has already reported it.
            }
        });

    // False when the symbol's last token is not an integer: the parser reports that itself.
    private static bool Converts(SymbolResult result) =>
        result.Tokens.Count == 0 || int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
}
