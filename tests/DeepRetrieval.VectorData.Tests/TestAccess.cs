using System.Reflection;
using DeepRetrieval.VectorData.Persistence;
using DeepRetrieval.VectorData.Storage;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>Reaches the engine behind a collection handle, for tests that inspect indexes and files.</summary>
internal static class TestAccess
{
    public static DurableRecordEngine Engine<TKey, TRecord>(DeepRetrievalCollection<TKey, TRecord> collection)
        where TKey : notnull
        where TRecord : class
    {
        object lease = typeof(DeepRetrievalCollection<TKey, TRecord>).GetField("_engine", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(collection)
            ?? throw new InvalidOperationException("The collection has not opened its engine yet.");
        return FolderRecordEngineProvider.EngineOf((IRecordEngine)lease);
    }

    public static RecordTable Table<TKey, TRecord>(DeepRetrievalCollection<TKey, TRecord> collection)
        where TKey : notnull
        where TRecord : class
        => Engine(collection).Table;
}
