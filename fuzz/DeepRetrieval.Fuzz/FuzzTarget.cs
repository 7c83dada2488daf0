namespace DeepRetrieval.Fuzz;

/// <summary>Defaults for targets: no repair, and <see cref="InvalidDataException"/> as the one documented exception.</summary>
internal abstract class FuzzTarget : IFuzzTarget
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract IReadOnlyList<(string Name, byte[] Bytes)> CreateSeeds();

    public virtual byte[] Repair(byte[] input) => input;

    public virtual int MutableLength(byte[] parent) => parent.Length;

    public abstract void Run(byte[] input);

    public virtual bool IsDocumented(Exception exception) => exception is InvalidDataException;

    /// <summary>
    /// Gives the same input to several readers of one family (each must reject the others' files cleanly): succeeds when one
    /// reads it, else throws the last reader's <see cref="InvalidDataException"/>. Any other exception escapes at once.
    /// </summary>
    protected static void LoadWithAny(params Action[] loaders)
    {
        InvalidDataException? rejection = null;
        bool loaded = false;
        foreach (var load in loaders)
        {
            try
            {
                load();
                loaded = true;
            }
            catch (InvalidDataException e)
            {
                rejection = e;
            }
        }
        if (!loaded) throw rejection!;
    }
}
