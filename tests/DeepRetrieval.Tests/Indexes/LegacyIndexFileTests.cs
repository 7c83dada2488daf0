using System.Text.Json;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests.Indexes;

/// <summary>
/// Index files written by main before the storage refactor (see <see cref="LegacyIndexFiles"/>) still load, report the
/// same kind and count, and answer the recorded queries with the recorded ids and distances; saved again by today's code
/// and reloaded, they answer the same.
/// </summary>
public class LegacyIndexFileTests
{
    private static readonly JsonElement Expected = ReferenceFixture.ReadJson(Path.Combine("legacy-v1", "expected.json"));

    public static TheoryData<string> VectorCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in LegacyIndexFiles.Cases) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(VectorCases))]
    public void Load_AnswersAsMainDid_ForFilesMainWrote(string name)
    {
        JsonElement expected = Expected.GetProperty(name);
        IVectorIndex index = IndexFile.Load(ReferenceFixture.PathOf(Path.Combine("legacy-v1", name + ".dri")));

        index.Kind.Should().Be(expected.GetProperty("kind").GetString());
        index.Count.Should().Be(expected.GetProperty("count").GetInt64());
        AnswersAsRecorded(index, expected);

        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        AnswersAsRecorded(IndexFile.Load(stream), expected);
    }

    [Fact]
    public void LoadBinary_AnswersAsMainDid_ForABinaryFlatFileMainWrote()
    {
        JsonElement expected = Expected.GetProperty("bflat-codes");
        IBinaryIndex index = IndexFile.LoadBinary(ReferenceFixture.PathOf(Path.Combine("legacy-v1", "bflat-codes.dri")));

        index.Kind.Should().Be(expected.GetProperty("kind").GetString());
        index.Count.Should().Be(expected.GetProperty("count").GetInt64());
        byte[] queries = LegacyIndexFiles.Codes(LegacyIndexFiles.Queries, 4);
        var ids = new long[LegacyIndexFiles.Queries * LegacyIndexFiles.K];
        var distances = new int[ids.Length];
        index.Search(queries, LegacyIndexFiles.K, ids, distances);
        ids.Should().Equal(expected.GetProperty("ids").Longs());
        distances.Should().Equal(expected.GetProperty("distances").Ints());
    }

    private static void AnswersAsRecorded(IVectorIndex index, JsonElement expected)
    {
        float[] queries = LegacyIndexFiles.Data(LegacyIndexFiles.Queries, 2);
        var ids = new long[LegacyIndexFiles.Queries * LegacyIndexFiles.K];
        var distances = new float[ids.Length];
        index.Search(queries, LegacyIndexFiles.K, ids, distances);
        ids.Should().Equal(expected.GetProperty("ids").Longs());
        float[] recorded = expected.GetProperty("distances").Floats();
        for (int i = 0; i < recorded.Length; i++)
            distances[i].Should().BeApproximately(recorded[i], 1e-4f * Math.Max(1f, Math.Abs(recorded[i])), $"distance {i}");

        JsonElement reconstructed = expected.GetProperty("reconstructed");
        if (reconstructed.ValueKind == JsonValueKind.Null)
        {
            index.Reconstruction.Should().Be(ReconstructionKind.None);
            return;
        }
        var row = new float[LegacyIndexFiles.Dimension];
        index.Reconstruct(1006, row);
        float[] want = reconstructed.Floats();
        for (int j = 0; j < want.Length; j++) row[j].Should().BeApproximately(want[j], 1e-5f, $"component {j}");
    }
}
