namespace DeepRetrieval.Fuzz;

/// <summary>
/// One file loader under fuzzing: what it is called, the seed files the library itself writes for it, how a mutated input is
/// repaired so that it gets past integrity checks (checksums, CRCs, length prefixes) to the parsers behind them, and the call.
/// </summary>
internal interface IFuzzTarget
{
    /// <summary>The name used on the command line (<c>fuzz/run.sh &lt;name&gt;</c>).</summary>
    string Name { get; }

    /// <summary>What is fuzzed, for <c>list</c>.</summary>
    string Description { get; }

    /// <summary>Real files written by the library (small), by file name.</summary>
    IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds();

    /// <summary>
    /// Repairs the integrity fields of a mutated input in place or returns a repaired copy (the index container's XxHash64
    /// and trailer length, zip CRC-32s, PNG chunk CRCs); inputs it does not recognise come back unchanged.
    /// </summary>
    byte[] Repair(byte[] input);

    /// <summary>
    /// How many leading bytes of <paramref name="parent"/> mutations may touch: the whole file, or only a header when the
    /// rest is tensor data that every value of is valid (mutating it only costs time).
    /// </summary>
    int MutableLength(byte[] parent);

    /// <summary>Loads the input. Only the documented exceptions may escape (see <see cref="IsDocumented"/>).</summary>
    void Run(byte[] input);

    /// <summary>Whether an exception escaping <see cref="Run"/> is the loader's documented answer to a bad file.</summary>
    bool IsDocumented(Exception exception);
}
