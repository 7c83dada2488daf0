using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;

#pragma warning disable CS0252 // object == string in the dictionary filters: the abstraction's dynamic filters are written so
#pragma warning disable CS8605 // unboxing a possibly null value, as the conformance suite's dynamic filters do

namespace DeepRetrieval.VectorData.Tests;

/// <summary>
/// The conformance suite's filter cases, typed and dynamic, plus ranges on doubles and dates, nullable columns and int arrays.
/// The expected records are what LINQ to Objects returns for the same expression over the same data (the abstraction's
/// reference semantics); every case is checked to match some but not all records unless it says otherwise.
/// </summary>
public sealed class FilterTests : IAsyncLifetime
{
    private const string Special = ">with $om[ specia]\"chara<ters'and\\stuff";
    private static readonly DateTimeOffset Day = new(2024, 5, 1, 12, 0, 0, TimeSpan.FromHours(2));
    private readonly TempFolder _folder = new();
    private DeepRetrievalVectorStore _store = null!;
    private VectorStoreCollection<int, FilterRecord> _typed = null!;
    private VectorStoreCollection<object, Dictionary<string, object?>> _dynamic = null!;

    private static readonly List<FilterRecord> Data =
    [
        new() { Key = 1, Int = 8, String = "foo", Bool = true, Int2 = 80, StringArray = ["x", "y"], StringList = ["x", "y"], Double = 0.5, When = Day, NullableInt = 1, Numbers = [1, 2] },
        new() { Key = 2, Int = 9, String = "bar", Bool = false, Int2 = 90, StringArray = ["a", "b"], StringList = ["a", "b"], Double = 1.5, When = Day.AddDays(1), NullableInt = null, Numbers = [3] },
        new() { Key = 3, Int = 9, String = "foo", Bool = true, Int2 = 9, StringArray = ["x"], StringList = ["x"], Double = 2.5, When = Day.AddDays(2), NullableInt = 3, Numbers = [] },
        new() { Key = 4, Int = 10, String = null, Bool = false, Int2 = 100, StringArray = ["x", "y", "z"], StringList = ["x", "y", "z"], Double = -1, When = Day.AddDays(-1), NullableInt = null, Numbers = [2, 4] },
        new() { Key = 5, Int = 11, String = Special, Bool = true, Int2 = 101, StringArray = ["y", "z"], StringList = ["y", "z"], Double = 8.25, When = Day.AddHours(1), NullableInt = 5, Numbers = [5] },
    ];

    private int _memberField = 8;

    public async Task InitializeAsync()
    {
        _store = new DeepRetrievalVectorStore(_folder.Path);
        _typed = _store.GetCollection<int, FilterRecord>("filters", Definitions.Filter());
        _dynamic = _store.GetDynamicCollection("filters", Definitions.Filter());
        await _typed.EnsureCollectionExistsAsync();
        foreach (FilterRecord r in Data) r.Vector = new ReadOnlyMemory<float>([1, 2, 3]);
        await _typed.UpsertAsync(Data);
    }

    public Task DisposeAsync()
    {
        _typed.Dispose();
        _dynamic.Dispose();
        _store.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private async Task Check(Expression<Func<FilterRecord, bool>> filter, Expression<Func<Dictionary<string, object?>, bool>>? dynamicFilter, string expect = "some")
    {
        int[] expected = Data.AsQueryable().Where(filter).Select(r => r.Key).OrderBy(k => k).ToArray();
        switch (expect)
        {
            case "some": expected.Length.Should().BeInRange(1, Data.Count - 1, "a case matching none or all records proves little"); break;
            case "none": expected.Should().BeEmpty(); break;
            case "all": expected.Should().HaveCount(Data.Count); break;
        }
        var searched = await _typed.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 10, new() { Filter = filter }).Select(r => r.Record.Key).ToListAsync();
        var got = await _typed.GetAsync(filter, top: 10).Select(r => r.Key).ToListAsync();
        searched.Order().Should().Equal(expected);
        got.Order().Should().Equal(expected);
        if (dynamicFilter is null) return;
        var dynamicSearched = await _dynamic.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 10, new() { Filter = dynamicFilter })
            .Select(r => (int)r.Record["Key"]!).ToListAsync();
        dynamicSearched.Order().Should().Equal(expected);
    }

    [Fact] public Task Equal_Int() => Check(r => r.Int == 8, r => (int)r["Int"] == 8);
    [Fact] public Task Equal_String() => Check(r => r.String == "foo", r => r["String"] == "foo");
    [Fact] public Task Equal_String_IsOrdinalNotContains() => Check(r => r.String == "fo", r => r["String"] == "fo", "none");
    [Fact] public Task Equal_String_WithSpecialCharacters() => Check(r => r.String == Special, r => r["String"] == Special);
    [Fact] public Task Equal_Reversed() => Check(r => 8 == r.Int, r => 8 == (int)r["Int"]);
    [Fact] public Task Equal_Null() => Check(r => r.String == null, r => r["String"] == null);

    [Fact]
    public Task Equal_NullCaptured()
    {
        string? s = null;
        return Check(r => r.String == s, r => r["String"] == s);
    }

    [Fact]
    public Task Equal_IntWithNullableInt()
    {
        int? some = 8, none = null;
        return Task.WhenAll(Check(r => r.Int == some, r => (int)r["Int"] == some), Check(r => r.Int == none, r => (int)r["Int"] == none, "none"));
    }

    [Fact]
    public async Task Equal_NullNullableValue_ThrowsInvalidOperation()
    {
        int? none = null;
        Func<Task> act = () => _typed.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 1, new() { Filter = r => r.Int == none!.Value }).ToListAsync().AsTask();
        await act.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact] public Task NotEqual_Int() => Check(r => r.Int != 8, r => (int)r["Int"] != 8);
    [Fact] public Task NotEqual_String_IncludesNull() => Check(r => r.String != "foo", r => r["String"] != "foo");
    [Fact] public Task NotEqual_Null() => Check(r => r.String != null, r => r["String"] != null);
    [Fact] public Task Bool() => Check(r => r.Bool, r => (bool)r["Bool"]);
    [Fact] public Task Bool_And_Bool() => Check(r => r.Bool && r.Bool, r => (bool)r["Bool"] && (bool)r["Bool"]);
    [Fact] public Task Bool_Or_Not_Bool() => Check(r => r.Bool || !r.Bool, r => (bool)r["Bool"] || !(bool)r["Bool"], "all");
    [Fact] public Task GreaterThan() => Check(r => r.Int > 9, r => (int)r["Int"] > 9);
    [Fact] public Task GreaterThanOrEqual() => Check(r => r.Int >= 9, r => (int)r["Int"] >= 9);
    [Fact] public Task LessThan() => Check(r => r.Int < 10, r => (int)r["Int"] < 10);
    [Fact] public Task LessThanOrEqual() => Check(r => r.Int <= 10, r => (int)r["Int"] <= 10);
    [Fact] public Task Range_OnDouble() => Check(r => r.Double > 0.5 && r.Double <= 2.5, r => (double)r["Double"] > 0.5 && (double)r["Double"] <= 2.5);

    [Fact] public Task Range_IntAgainstFraction_ComparesByValue() => Check(r => r.Int > 8.5, r => (int)r["Int"] > 8.5);

    [Fact]
    public async Task NarrowingCastOfAProperty_IsRefusedByTheAbstraction()
    {
        Func<Task> act = () => _typed.GetAsync(r => (short)r.Int == 8, top: 1).ToListAsync().AsTask();
        await act.Should().ThrowAsync<InvalidCastException>();
    }

    [Fact] public Task Range_OnDateTimeOffset_ComparesInstants() => Check(r => r.When >= Day && r.When < Day.AddDays(1), null);
    [Fact] public Task Range_OnNullable_ExcludesNull() => Check(r => r.NullableInt >= 3, r => (int?)r["NullableInt"] >= 3);
    [Fact] public Task Equal_NullableNull() => Check(r => r.NullableInt == null, r => r["NullableInt"] == null);
    [Fact] public Task And() => Check(r => r.Int == 8 && r.String == "foo", r => (int)r["Int"] == 8 && r["String"] == "foo");
    [Fact] public Task Or() => Check(r => r.Int == 8 || r.String == "foo", r => (int)r["Int"] == 8 || r["String"] == "foo");
    [Fact] public Task And_Within_Or() => Check(r => (r.Int == 8 && r.String == "foo") || r.Int2 == 100, null);
    [Fact] public Task Or_Within_And() => Check(r => (r.Int == 8 || r.Int == 9) && r.String == "foo", null);
    [Fact] public Task Not_Over_Equal() => Check(r => !(r.Int == 8), r => !((int)r["Int"] == 8));
    [Fact] public Task Not_Over_And() => Check(r => !(r.Int == 8 && r.String == "foo"), null);
    [Fact] public Task Not_Over_Or() => Check(r => !(r.Int == 8 || r.String == "foo"), null);
    [Fact] public Task Not_Bool_And_Comparison() => Check(r => !r.Bool && r.Int != int.MaxValue, null);
    [Fact] public Task Contains_OnStringArray() => Check(r => r.StringArray.Contains("x"), r => ((string[])r["StringArray"]!).Contains("x"));
    [Fact] public Task Contains_OnStringList() => Check(r => r.StringList.Contains("x"), r => ((List<string>)r["StringList"]!).Contains("x"));
    [Fact] public Task Contains_OnIntArray() => Check(r => r.Numbers.Contains(2), null);
    [Fact] public Task Contains_WithEnumerableContains() => Check(r => Enumerable.Contains(r.StringArray, "x"), null);
    [Fact] public Task Contains_WithMemoryExtensionsContains() => Check(r => MemoryExtensions.Contains(r.StringArray, "x"), null);
    [Fact] public Task In_InlineIntArray() => Check(r => new[] { 8, 10 }.Contains(r.Int), r => new[] { 8, 10 }.Contains((int)r["Int"]));
    [Fact] public Task In_InlineStringArray_WithOddCharacters() => Check(r => new[] { "foo", "baz", "un  , ' \"" }.Contains(r.String), null);

    [Fact]
    public Task In_CapturedStringArrayAndList()
    {
        var array = new[] { "foo", "baz", "unknown" };
        var list = new List<string> { "bar" };
        return Task.WhenAll(Check(r => array.Contains(r.String), r => array.Contains(r["String"])), Check(r => list.Contains(r.String!), null));
    }

    [Fact]
    public Task Any_WithContains_OverCapturedValues()
    {
        string[] wanted = ["x", "z", "nonexistent"];
        List<string> wantedList = ["a"];
        return Task.WhenAll(
            Check(r => r.StringArray.Any(s => wanted.Contains(s)), r => ((string[])r["StringArray"]!).Any(s => wanted.Contains(s))),
            Check(r => r.StringList.Any(s => wantedList.Contains(s)), null),
            Check(r => r.StringArray.Any(s => new[] { "b", "z" }.Contains(s)), null));
    }

    [Fact]
    public Task CapturedFieldsAndConstants_AreEvaluatedOnce()
    {
        int local = 8;
        return Task.WhenAll(Check(r => r.Int == local, null), Check(r => r.Int == _memberField, null), Check(r => true, null, "all"));
    }

    [Fact]
    public async Task UnsupportedExpressions_ThrowNotSupported_NamingTheExpression()
    {
        Func<Task> startsWith = () => _typed.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 1, new() { Filter = r => r.String!.StartsWith("f") }).ToListAsync().AsTask();
        Func<Task> twoProperties = () => _typed.GetAsync(r => r.Int == r.Int2, top: 1).ToListAsync().AsTask();
        Func<Task> arithmetic = () => _typed.GetAsync(r => r.Int + 1 == 9, top: 1).ToListAsync().AsTask();
        Func<Task> orderedString = () => _typed.GetAsync(r => string.Compare(r.String, "a") > 0, top: 1).ToListAsync().AsTask();

        (await startsWith.Should().ThrowAsync<NotSupportedException>()).Which.Message.Should().Contain("StartsWith");
        await twoProperties.Should().ThrowAsync<NotSupportedException>();
        await arithmetic.Should().ThrowAsync<NotSupportedException>();
        await orderedString.Should().ThrowAsync<NotSupportedException>();
    }

    [Fact]
    public async Task UnknownDynamicProperty_ThrowsInvalidOperation()
    {
        Func<Task> act = () => _dynamic.SearchAsync(new ReadOnlyMemory<float>([1, 2, 3]), top: 1,
            new() { Filter = r => r["String = \"not\"; DROP TABLE FilterTests;"] == "" }).ToListAsync().AsTask();

        await act.Should().ThrowAsync<InvalidOperationException>();
    }
}
