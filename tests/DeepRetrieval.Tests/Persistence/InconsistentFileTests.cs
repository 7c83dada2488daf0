using System.Reflection;
using DeepRetrieval.Indexes;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Persistence;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Tests.Persistence;

/// <summary>
/// Issue 16, finding 3: files whose checksum is valid but whose parts disagree with each other. Each file is written by
/// the library's own payload writer (an index put into a state no public path reaches, then saved, or a payload written
/// through <see cref="IndexFileFormat.Write"/>), so the container is valid and only the cross-structure invariant that
/// <c>Save</c> guarantees is broken. Loading must fail with <see cref="InvalidDataException"/> naming the problem. Each test
/// says what main did with the same file.
/// </summary>
public class InconsistentFileTests
{
    private const int D = 16;
    private static readonly float[] Data = TestData.Clustered(600, D, 8, 21);

    private static byte[] Saved(IIndex index)
    {
        using var stream = new MemoryStream();
        index.Save(stream);
        return stream.ToArray();
    }

    private static void LoadFails(byte[] file, string message) =>
        FluentActions.Invoking(() => IndexFile.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>().WithMessage(message);

    private static IvfIndex TrainedIvf()
    {
        var ivf = (IvfIndex)IndexFactory.Create(D, "IVF8,Flat");
        ivf.Train(Data);
        ivf.Add(Data);
        return ivf;
    }

    [Fact]
    public void Ivf_WhoseCoarseQuantizerIdsAreNotTheListNumbers_IsRejected()
    {
        // main: loaded, then Search threw IndexOutOfRangeException (the quantizer answered list 8 of 8).
        IvfIndex ivf = TrainedIvf();
        float[] centroid = new float[D];
        ivf.CoarseQuantizer.Reconstruct(0, centroid);
        ivf.CoarseQuantizer.Remove([0L]);
        ivf.CoarseQuantizer.Add(centroid, [8L]);
        LoadFails(Saved(ivf), "*coarse quantizer's ids are not the list numbers 0 to 7 (list 0 has no centroid in it)*");
    }

    [Fact]
    public void Ivf_WhoseCoarseQuantizerHoldsTwoCentroidsSwapped_IsRejected()
    {
        // main: loaded, and queries near centroid 0 were sent to list 1 and back: wrong neighbours, silently.
        IvfIndex ivf = TrainedIvf();
        float[] first = new float[D], second = new float[D];
        ivf.CoarseQuantizer.Reconstruct(0, first);
        ivf.CoarseQuantizer.Reconstruct(1, second);
        ivf.CoarseQuantizer.Remove([0L, 1L]);
        ivf.CoarseQuantizer.Add([.. second, .. first], [0L, 1L]);
        LoadFails(Saved(ivf), "*coarse quantizer's vector 0 differs from centroid 0*");
    }

    [Fact]
    public void RefineFlat_WhoseBaseHoldsOtherIdsThanItsRawVectors_IsRejected()
    {
        // main: loaded; a search re-ranked base candidate 599 for which it had no raw vector (KeyNotFoundException).
        var refine = (RefineFlatIndex)IndexFactory.Create(D, "SQ8,RFlat");
        refine.Train(Data);
        refine.Add(Data.AsSpan(0, 100 * D));
        refine.BaseIndex.Remove([7L]);
        refine.BaseIndex.Add(Data.AsSpan(7 * D, D), [599L]);
        LoadFails(Saved(refine), "*id 7 has a raw vector but is not in the base index*");
    }

    [Fact]
    public void PreTransform_WhoseNextIdIsNotAboveTheInnerIds_IsRejected()
    {
        // main: loaded with next id 100 over an inner id 500; the fifth automatic Add after it failed with "already in the index".
        var index = (TransformedIndex)IndexFactory.Create(D, "PCA8,Flat");
        index.Train(Data);
        index.Add(Data.AsSpan(0, 100 * D));
        index.Inner.Add(index.ApplyTransforms(Data.AsSpan(100 * D, D)), [500L]);
        index.NextId.Should().Be(100);
        LoadFails(Saved(index), "*next id 100 is not above the inner index's id 500*collide*");
    }

    [Fact]
    public void PreTransform_WhosePcaMatrixOverflowsToInfinity_IsRejected()
    {
        // main: loaded (every value finite); each search then transformed queries to ±∞ and returned NaN distances.
        var index = (TransformedIndex)IndexFactory.Create(D, "PCA8,Flat");
        index.Train(Data);
        index.Add(Data.AsSpan(0, 100 * D));
        float[] forward = PrivateArray(index.Transforms[0], "_forward");
        for (int i = 0; i < forward.Length; i++) forward[i] *= 1e30f;
        forward.Should().OnlyContain(v => float.IsFinite(v));
        LoadFails(Saved(index), "*PCA matrix has squared norm*but its eigenvalues and epsilon give*");
    }

    [Fact]
    public void PreTransform_WithAnUntrainedItq_IsRejected()
    {
        // main: loaded an index that IsTrained false and that no Train could fix (it was not empty of transforms to
        // train only: Add and Search threw InvalidOperationException). Save never writes an untrained chain.
        using var stream = new MemoryStream();
        IndexFileFormat.Write(stream, IndexKinds.PreTransform, w =>
        {
            w.WriteInt32(D);                                   // dimension
            w.WriteInt64(0);                                   // next id
            w.WriteInt32(1);                                   // one transform
            w.WriteTransform(new ItqTransform(D, 8));          // untrained: its trained flag is 0
            w.WriteIndex(new FlatIndex(8, Metric.L2));
        });
        LoadFails(stream.ToArray(), "*transform 0 (ITQ) is not trained*");
    }

    [Fact]
    public void Itq_WhoseComponentsAreScaledUp_IsRejected()
    {
        // main: loaded (rotation rows were checked, components were not); codes came from projections of ±1e30.
        var index = (TransformedIndex)IndexFactory.Create(D, "ITQ16,BFlat", Metric.Hamming);
        index.Train(Data);
        index.Add(Data.AsSpan(0, 100 * D));
        float[] components = PrivateArray(index.Transforms[0], "_components");
        for (int i = 0; i < D; i++) components[i] *= 1e30f;
        LoadFails(Saved(index), "*ITQ component 0 has length*not 1*");
    }

    [Fact]
    public void ConsistentFiles_StillLoad_AndSearchAlike()
    {
        foreach (string description in new[] { "IVF8,Flat", "IVF8_HNSW4,SQ8", "SQ8,RFlat", "PCA8,Flat", "PCAW8,Flat", "PCAWR8,HNSW8", "OPQ4,PQ4" })
        {
            IVectorIndex index = IndexFactory.Create(D, description);
            index.Train(Data);
            index.Add(Data);
            IVectorIndex loaded = IndexFile.Load(new MemoryStream(Saved(index)));
            loaded.Search(Data.AsSpan(0, 10 * D), 5).Ids.Should().Equal(index.Search(Data.AsSpan(0, 10 * D), 5).Ids, description);
        }
    }

    // The transforms keep their learnt matrices private; a test that must break them on purpose reaches them this way.
    private static float[] PrivateArray(object owner, string field) =>
        (float[])owner.GetType().GetField(field, BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(owner)!;
}
