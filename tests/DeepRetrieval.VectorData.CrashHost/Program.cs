using DeepRetrieval.VectorData;
using DeepRetrieval.VectorData.CrashHost;

// Usage: CrashHost <root folder> <first record number> <batch size> <checkpoint log bytes>
// Upserts batches of CrashRecord forever (until killed); after each UpsertAsync returns it prints "ACK <first> <last>".
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: CrashHost <root> <first> <batch size> <checkpoint log bytes>");
    return 2;
}
string root = args[0];
int next = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
int batchSize = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
long checkpointBytes = long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);

var options = new DeepRetrievalVectorStoreOptions { Storage = { CheckpointLogBytes = checkpointBytes } };
using var store = new DeepRetrievalVectorStore(root, options);
var collection = store.GetCollection<long, CrashRecord>(CrashRecord.CollectionName);
await collection.EnsureCollectionExistsAsync();
Console.WriteLine("READY");
while (true)
{
    var batch = Enumerable.Range(next, batchSize).Select(CrashRecord.Create).ToList();
    await collection.UpsertAsync(batch);
    Console.WriteLine($"ACK {next} {next + batchSize - 1}");
    next += batchSize;
}
