using DeepRetrieval.Orleans.Serialization;
using DeepRetrieval.VectorData.Filtering;

namespace DeepRetrieval.Orleans.Tests;

public sealed class FilterCodecTests
{
    public static TheoryData<object?> Constants => new()
    {
        null, true, (byte)7, (short)-3, 42, -5L, 9UL, 1.5f, -2.25, 12.345m, "text", "", Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"),
        new DateTime(2024, 2, 29, 13, 45, 0, DateTimeKind.Utc), new DateTime(2024, 2, 29, 13, 45, 0, DateTimeKind.Local),
        new DateTimeOffset(2024, 2, 29, 13, 45, 0, TimeSpan.FromHours(-5)), new DateOnly(2020, 1, 2), new TimeOnly(23, 59, 58),
    };

    [Theory]
    [MemberData(nameof(Constants))]
    public void RoundTrip_KeepsEveryConstantWithItsKind(object? value)
    {
        var filter = new ComparisonFilter("Column", ComparisonOperator.GreaterThanOrEqual, value);
        var decoded = (ComparisonFilter)FilterCodec.Decode(FilterCodec.Encode(filter));
        decoded.Column.Should().Be("Column");
        decoded.Operator.Should().Be(ComparisonOperator.GreaterThanOrEqual);
        decoded.Value.Should().Be(value);
        decoded.Value?.GetType().Should().Be(value?.GetType());
        if (value is DateTime t) ((DateTime)decoded.Value!).Kind.Should().Be(t.Kind);
        if (value is DateTimeOffset o) ((DateTimeOffset)decoded.Value!).Offset.Should().Be(o.Offset);
    }

    [Fact]
    public void RoundTrip_KeepsTheTreeShape()
    {
        FilterNode filter = new OrFilter(
            new AndFilter(new ContainsFilter("Tags", "x"), new NotFilter(new InFilter("Id", [1, 2, null]))),
            new AndFilter(new AnyInFilter("Tags", ["a", "b"]), new ConstantFilter(true)));
        FilterNode decoded = FilterCodec.Decode(FilterCodec.Encode(filter));
        decoded.Should().BeEquivalentTo(filter, o => o.RespectingRuntimeTypes());
    }

    [Fact]
    public void Decode_RejectsHostileBytes()
    {
        byte[] valid = FilterCodec.Encode(new ComparisonFilter("A", ComparisonOperator.Equal, 5));
        FluentActions.Invoking(() => FilterCodec.Decode(valid[..^2])).Should().Throw<InvalidDataException>().WithMessage("*end early*");
        FluentActions.Invoking(() => FilterCodec.Decode([99])).Should().Throw<InvalidDataException>().WithMessage("*tag 99*");
        FluentActions.Invoking(() => FilterCodec.Decode([.. valid, 0])).Should().Throw<InvalidDataException>().WithMessage("*follow*");
        byte[] badOperator = (byte[])valid.Clone();
        badOperator[3] = 77; // tag, name length, 'A', operator
        FluentActions.Invoking(() => FilterCodec.Decode(badOperator)).Should().Throw<InvalidDataException>().WithMessage("*operator 77*");
        // An In list declaring two billion values in a few bytes.
        FluentActions.Invoking(() => FilterCodec.Decode([7, 1, (byte)'A', 0xFF, 0xFF, 0xFF, 0x7F])).Should().Throw<InvalidDataException>().WithMessage("*more than its bytes hold*");
        // Nesting deeper than the limit: a chain of Not nodes.
        FluentActions.Invoking(() => FilterCodec.Decode([.. Enumerable.Repeat((byte)4, FilterCodec.MaxDepth + 5), 1, 1])).Should().Throw<InvalidDataException>().WithMessage("*deeper*");
    }

    [Fact]
    public void Encode_RejectsConstantsThatAreNotStoredKinds()
    {
        FluentActions.Invoking(() => FilterCodec.Encode(new ComparisonFilter("A", ComparisonOperator.Equal, new Uri("http://x"))))
            .Should().Throw<NotSupportedException>().WithMessage("*Uri*");
    }
}
