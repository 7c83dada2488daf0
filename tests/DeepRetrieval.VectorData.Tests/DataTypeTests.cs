using Microsoft.Extensions.VectorData;

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// The conformance suite's data types: every supported type is written, read back after the collection is closed and reopened
/// (so through the log and a snapshot), and filtered on by equality; nullable ones also by null.
/// </summary>
public sealed class DataTypeTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public sealed class AllTypes
    {
        [VectorStoreKey] public string Key { get; set; } = "";
        [VectorStoreData] public byte Byte { get; set; }
        [VectorStoreData] public short Short { get; set; }
        [VectorStoreData] public int Int { get; set; }
        [VectorStoreData] public long Long { get; set; }
        [VectorStoreData] public float Float { get; set; }
        [VectorStoreData] public double Double { get; set; }
        [VectorStoreData] public decimal Decimal { get; set; }
        [VectorStoreData] public string? String { get; set; }
        [VectorStoreData] public bool Bool { get; set; }
        [VectorStoreData] public Guid Guid { get; set; }
        [VectorStoreData] public DateTime DateTime { get; set; }
        [VectorStoreData] public DateTimeOffset DateTimeOffset { get; set; }
        [VectorStoreData] public DateOnly DateOnly { get; set; }
        [VectorStoreData] public TimeOnly TimeOnly { get; set; }
        [VectorStoreData] public string[] StringArray { get; set; } = [];
        [VectorStoreData] public List<int> IntList { get; set; } = [];
        [VectorStoreData] public int? NullableInt { get; set; }
        [VectorStoreData] public DateTime? NullableDateTime { get; set; }
        [VectorStoreVector(3)] public float[] Vector { get; set; } = [];
    }

    private static AllTypes MainRecord() => new()
    {
        Key = "main", Byte = 8, Short = -8, Int = 8, Long = long.MaxValue, Float = 8.5f, Double = 8.5, Decimal = 8.5m, String = "foo", Bool = true,
        Guid = new Guid("603840bf-cf91-4521-8b8e-8b6a2e75910a"), DateTime = new DateTime(2020, 1, 1, 12, 30, 45, DateTimeKind.Utc),
        DateTimeOffset = new DateTimeOffset(2020, 1, 1, 12, 30, 45, TimeSpan.FromHours(2)), DateOnly = new DateOnly(2020, 1, 1), TimeOnly = new TimeOnly(12, 30, 45),
        StringArray = ["foo", null!, "bar"], IntList = [1, 2], NullableInt = 8, NullableDateTime = new DateTime(2021, 2, 3, 4, 5, 6, DateTimeKind.Local), Vector = [1, 2, 3],
    };

    private static AllTypes OtherRecord() => new()
    {
        Key = "other", Byte = 9, Short = 9, Int = 9, Long = 9, Float = 9.5f, Double = 9.5, Decimal = 9.5m, String = "bar", Bool = false,
        Guid = new Guid("e9a97807-8cf0-4741-8ce3-82df676ca0f0"), DateTime = new DateTime(2021, 2, 3, 13, 40, 55), DateTimeOffset = new DateTimeOffset(2021, 2, 3, 13, 40, 55, TimeSpan.FromHours(3)),
        DateOnly = new DateOnly(2021, 2, 3), TimeOnly = new TimeOnly(13, 40, 55), StringArray = ["baz"], IntList = [3], NullableInt = null, NullableDateTime = null, Vector = [1, 2, 3],
    };

    [Fact]
    public async Task EveryType_SurvivesAReopen_AndFiltersByEquality()
    {
        using (var store = new DeepRetrievalVectorStore(_folder.Path))
        using (var collection = store.GetCollection<string, AllTypes>("types"))
        {
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync([MainRecord(), OtherRecord()]);
        }

        using var reopened = new DeepRetrievalVectorStore(_folder.Path);
        using var again = reopened.GetCollection<string, AllTypes>("types");
        AllTypes read = (await again.GetAsync("main", new() { IncludeVectors = true }))!;
        read.Should().BeEquivalentTo(MainRecord());
        read.DateTime.Kind.Should().Be(DateTimeKind.Utc);
        read.NullableDateTime!.Value.Kind.Should().Be(DateTimeKind.Local);
        read.DateTimeOffset.Offset.Should().Be(TimeSpan.FromHours(2));
        (await again.GetAsync("other"))!.Should().BeEquivalentTo(OtherRecord(), o => o.Excluding(r => r.Vector));

        AllTypes m = MainRecord();
        async Task One(System.Linq.Expressions.Expression<Func<AllTypes, bool>> filter, string key = "main") =>
            (await again.SearchAsync(m.Vector, top: 10, new() { Filter = filter }).Select(r => r.Record.Key).ToListAsync()).Should().Equal(key);
        await One(r => r.Byte == m.Byte);
        await One(r => r.Short == m.Short);
        await One(r => r.Int == m.Int);
        await One(r => r.Long == m.Long);
        await One(r => r.Float == m.Float);
        await One(r => r.Double == m.Double);
        await One(r => r.Decimal == m.Decimal);
        await One(r => r.String == m.String);
        await One(r => r.Bool == m.Bool);
        await One(r => r.Guid == m.Guid);
        await One(r => r.DateTime == new DateTime(2020, 1, 1, 12, 30, 45, DateTimeKind.Utc));
        await One(r => r.DateTimeOffset == new DateTimeOffset(2020, 1, 1, 12, 30, 45, TimeSpan.FromHours(2)));
        await One(r => r.DateOnly == m.DateOnly);
        await One(r => r.TimeOnly == m.TimeOnly);
        await One(r => r.StringArray.Contains("bar"));
        await One(r => r.IntList.Contains(2));
        await One(r => r.NullableInt == 8);
        await One(r => r.NullableInt == null, "other");
        await One(r => r.Decimal > 9m, "other");
        await One(r => r.DateOnly < new DateOnly(2020, 6, 1));
    }

    public sealed class WithUnsupported
    {
        [VectorStoreKey] public int Key { get; set; }
        [VectorStoreData] public Dictionary<string, int> Map { get; set; } = [];
        [VectorStoreVector(3)] public float[] Vector { get; set; } = [];
    }

    [Fact]
    public void UnsupportedDataTypes_AreRejected_WhenTheCollectionIsDefined()
    {
        using var store = new DeepRetrievalVectorStore(_folder.Path);

        Action act = () => store.GetCollection<int, WithUnsupported>("x");

        act.Should().Throw<NotSupportedException>().WithMessage("*Map*");
    }
}
