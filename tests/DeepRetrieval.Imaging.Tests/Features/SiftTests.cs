using DeepRetrieval.Imaging.Features;

namespace DeepRetrieval.Imaging.Tests.Features;

/// <summary>
/// SIFT against OpenCV 4.6's cv2.SIFT_create() on real photos and their homographies (fixtures from
/// Reference/make_sift_fixtures.py).
/// </summary>
public class SiftTests
{
    public static TheoryData<string> FixtureImages => new() { "chelsea", "coffee", "chelsea_warp", "coffee_warp" };

    // OpenCV's features of a fixture image, ours, and for each OpenCV keypoint the index of the agreeing one of ours.
    private static (LocalFeatures OpenCv, LocalFeatures Ours, int[] Agreement) OursAgainstOpenCv(string name)
    {
        SiftFixtures.Image image = SiftFixtures.Load(name);
        LocalFeatures opencv = SiftFixtures.OpenCv(name);
        LocalFeatures ours = new Sift().DetectAndCompute(image.Pixels, image.Width, image.Height);
        return (opencv, ours, SiftFixtures.Agreement(opencv.Keypoints, ours.Keypoints));
    }

    [Theory]
    [MemberData(nameof(FixtureImages))]
    public void DetectAndCompute_FindsOpenCvsKeypoints_OnRealPhotos(string name)
    {
        (LocalFeatures opencv, LocalFeatures ours, int[] agreement) = OursAgainstOpenCv(name);
        double fraction = agreement.Count(i => i >= 0) / (double)agreement.Length;
        // Measured: every OpenCV keypoint has one of ours within 1 px and 10% size (on 120 benchmark images as well).
        fraction.Should().BeGreaterThanOrEqualTo(0.995, "OpenCV keypoints with one of ours within 1 pixel and 10% size");
        ours.Count.Should().BeCloseTo(opencv.Count, (uint)Math.Max(1, opencv.Count / 200), "keypoint counts agree within 0.5%");
        // Same packed octave/layer for keypoints that agree, and positions equal to float rounding.
        int exact = 0;
        for (int i = 0; i < agreement.Length; i++)
        {
            if (agreement[i] < 0) continue;
            Keypoint o = ours.Keypoints[agreement[i]], r = opencv.Keypoints[i];
            if ((o.Octave & 0xFFFF) == (r.Octave & 0xFFFF) && Math.Abs(o.X - r.X) < 1e-3 && Math.Abs(o.Y - r.Y) < 1e-3) exact++;
        }
        (exact / (double)agreement.Length).Should().BeGreaterThanOrEqualTo(0.99, "keypoints identical to OpenCV's up to float rounding");
    }

    [Theory]
    [MemberData(nameof(FixtureImages))]
    public void Descriptors_AreCloseToOpenCvs_ForAgreeingKeypoints(string name)
    {
        (LocalFeatures opencv, LocalFeatures ours, int[] agreement) = OursAgainstOpenCv(name);
        var distances = new List<double>();
        for (int i = 0; i < agreement.Length; i++)
        {
            if (agreement[i] < 0 || Math.Abs(ours.Keypoints[agreement[i]].Angle - opencv.Keypoints[i].Angle) > 1) continue;
            distances.Add(System.Numerics.Tensors.TensorPrimitives.Distance(ours.Descriptor(agreement[i]), opencv.Descriptor(i)));
        }
        distances.Count.Should().BeGreaterThan(agreement.Length * 99 / 100);
        // Descriptor components are 0 … 255 (norm 512): measured means are about 0.001, a rare off-by-one rounding of one
        // component (OpenCV sums the norms in SIMD lane order).
        distances.Average().Should().BeLessThan(0.05);
        distances.Max().Should().BeLessThan(2.0);
        distances.Count(d => d == 0).Should().BeGreaterThanOrEqualTo(distances.Count * 99 / 100, "descriptors identical to OpenCV's");
        ours.Descriptors.Should().OnlyContain(v => v >= 0 && v <= 255 && v == MathF.Round(v));
    }

    [Fact]
    public void MaxKeypoints_KeepsTheKeypointsOpenCvKeepsByResponse()
    {
        SiftFixtures.Image image = SiftFixtures.Load("chelsea");
        Keypoint[] opencv = SiftFixtures.Keypoints("chelsea.best100");
        Keypoint[] ours = new Sift(new SiftOptions { MaxKeypoints = 100 }).Detect(image.Pixels, image.Width, image.Height);
        opencv.Length.Should().BeGreaterThanOrEqualTo(100);
        ours.Length.Should().BeCloseTo(opencv.Length, 2);
        SiftFixtures.Agreement(opencv, ours).Count(i => i >= 0).Should().BeGreaterThanOrEqualTo(opencv.Length - 2);
    }

    [Fact]
    public void Compute_WithProvidedKeypoints_MatchesOpenCvsCompute()
    {
        // The grid names octaves 1 and 2 only, so this also covers the pyramid without up-sampling.
        SiftFixtures.Image image = SiftFixtures.Load("chelsea");
        Keypoint[] grid = SiftFixtures.Keypoints("chelsea.grid.keypoints");
        float[] reference = SiftFixtures.Array("chelsea.grid.descriptors").Data;
        LocalFeatures ours = new Sift().Compute(image.Pixels, image.Width, image.Height, grid);
        ours.Count.Should().Be(grid.Length);
        ours.Keypoints.Should().Equal(grid);
        var distances = Enumerable.Range(0, grid.Length)
            .Select(i => (double)System.Numerics.Tensors.TensorPrimitives.Distance(ours.Descriptor(i), reference.AsSpan(i * 128, 128)))
            .ToArray();
        distances.Average().Should().BeLessThan(0.05);
        distances.Max().Should().BeLessThan(2.0);
    }

    [Fact]
    public void FloatInput_InZeroToOne_GivesTheSameKeypointsAsBytes()
    {
        SiftFixtures.Image image = SiftFixtures.Load("coffee");
        float[] unit = image.Pixels.Select(p => p / 255f).ToArray();
        var sift = new Sift();
        Keypoint[] fromBytes = sift.Detect(image.Pixels, image.Width, image.Height);
        Keypoint[] fromFloats = sift.Detect(unit, image.Width, image.Height);
        SiftFixtures.Agreement(fromBytes, fromFloats).Count(i => i >= 0).Should().BeGreaterThanOrEqualTo(fromBytes.Length * 99 / 100);
    }

    [Fact]
    public void Results_DoNotDependOnTheThreadCount()
    {
        SiftFixtures.Image image = SiftFixtures.Load("chelsea");
        LocalFeatures one = new Sift().DetectAndCompute(image.Pixels, image.Width, image.Height);
        LocalFeatures two = new Sift(new SiftOptions { MaxDegreeOfParallelism = 2 }).DetectAndCompute(image.Pixels, image.Width, image.Height);
        two.Keypoints.Should().Equal(one.Keypoints);
        two.Descriptors.Should().Equal(one.Descriptors);
    }

    [Fact]
    public void RootSift_IsTheSquareRootOfTheL1NormalisedOpenCvDescriptor()
    {
        SiftFixtures.Image image = SiftFixtures.Load("coffee");
        LocalFeatures plain = new Sift().DetectAndCompute(image.Pixels, image.Width, image.Height);
        LocalFeatures root = new Sift(new SiftOptions { Normalization = SiftDescriptorNormalization.RootSift }).DetectAndCompute(image.Pixels, image.Width, image.Height);
        root.Keypoints.Should().Equal(plain.Keypoints);
        root.ByteScale.Should().Be(255f);
        for (int i = 0; i < plain.Count; i += 17)
        {
            ReadOnlySpan<float> p = plain.Descriptor(i), r = root.Descriptor(i);
            float sum = System.Numerics.Tensors.TensorPrimitives.Sum(p);
            for (int j = 0; j < 128; j++) r[j].Should().BeApproximately(MathF.Sqrt(p[j] / sum), 1e-6f);
            System.Numerics.Tensors.TensorPrimitives.Norm(r).Should().BeApproximately(1f, 1e-5f);
        }
        byte[] bytes = root.DescriptorsAsBytes();
        bytes[5].Should().Be((byte)MathF.Round(root.Descriptors[5] * 255f, MidpointRounding.ToEven));
        plain.DescriptorsAsBytes().Select(b => (float)b).Should().Equal(plain.Descriptors);
    }

    [Fact]
    public void ComputeDense_DescribesEveryGridPoint_Upright()
    {
        SiftFixtures.Image image = SiftFixtures.Load("chelsea");
        var grid = new DenseGrid { Step = 40, Sizes = [8f, 16f] };
        LocalFeatures dense = new Sift().ComputeDense(image.Pixels, image.Width, image.Height, grid);
        // Offsets 20, 60, …, 300 across 320 columns (8 points) and 20 … 180 across 213 rows (5 points), two sizes each.
        dense.Count.Should().Be(8 * 5 * 2);
        dense.Keypoints.Should().OnlyContain(k => k.Angle == 0 && (k.Size == 8f || k.Size == 16f));
        // Size 8: σ = 4 = 1.6 · 2^1.32 → octave 1, layer round(0.32 · 3) = 1.
        dense.Keypoints[0].Should().Be(new Keypoint(20, 20, 8f, 0, 0, Keypoint.PackOctave(1, 1)));
        // Size 16: σ = 8 = 1.6 · 2^2.32 → octave 2, layer round(0.32 · 3) = 1.
        dense.Keypoints[1].Octave.Should().Be(Keypoint.PackOctave(2, 1));
        dense.Descriptors.Should().Contain(v => v > 0);
    }

    [Fact]
    public void DenseGrid_PacksTheLevelWhoseBlurMatchesTheSize()
    {
        // σ = size / 2 = 1.6 · 2^(octave + layer / 3).
        DenseGrid.PackedLevel(3.2f, 1.6, 3).Should().Be(Keypoint.PackOctave(0, 0));
        DenseGrid.PackedLevel(6.4f, 1.6, 3).Should().Be(Keypoint.PackOctave(1, 0));
        DenseGrid.PackedLevel(1.6f, 1.6, 3).Should().Be(Keypoint.PackOctave(-1, 0));
        DenseGrid.PackedLevel(0.5f, 1.6, 3).Should().Be(Keypoint.PackOctave(-1, 0));
        DenseGrid.PackedLevel(3.2f * MathF.Pow(2, 2f / 3), 1.6, 3).Should().Be(Keypoint.PackOctave(0, 2));
    }

    [Fact]
    public void Keypoint_UnpacksOpenCvsOctaveField()
    {
        // 13697791 = 0xD102FF, from cv2.SIFT_create() on chelsea: octave −1 (0xFF), layer 2, sub-layer code 0xD1.
        var k = new Keypoint(21.6f, 245.8f, 2.73f, 90.98f, 0.0171f, 13697791);
        k.OctaveIndex.Should().Be(-1);
        k.Layer.Should().Be(2);
        k.Scale.Should().BeApproximately(1.365f, 1e-6f);
        Keypoint.PackOctave(-1, 2, 0xD1).Should().Be(13697791);
    }

    [Fact]
    public void Detect_ReturnsNoKeypoints_ForAUniformImage()
    {
        var flat = Enumerable.Repeat((byte)128, 64 * 48).ToArray();
        LocalFeatures features = new Sift().DetectAndCompute(flat, 64, 48);
        features.Count.Should().Be(0);
        features.Descriptors.Should().BeEmpty();
    }

    [Fact]
    public void Detect_ReturnsAnEmptyResult_ForImagesSmallerThanTheMinimumSide()
    {
        var tiny = new byte[10 * 40];
        new Random(1).NextBytes(tiny);
        LocalFeatures features = new Sift().DetectAndCompute(tiny, 10, 40);
        features.Count.Should().Be(0);
        features.DescriptorLength.Should().Be(128);
    }

    [Fact]
    public void BadInput_IsRejectedWithAClearException()
    {
        var sift = new Sift();
        FluentActions.Invoking(() => sift.Detect(ReadOnlySpan<byte>.Empty, 0, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at least 1 × 1*");
        FluentActions.Invoking(() => sift.Detect(new byte[99], 10, 10)).Should().Throw<ArgumentException>().WithMessage("*needs 100 pixels; got 99*");
        var withNaN = new float[20 * 20];
        withNaN[7] = float.NaN;
        FluentActions.Invoking(() => sift.Detect(withNaN, 20, 20)).Should().Throw<ArgumentException>().WithMessage("*finite*");
        FluentActions.Invoking(() => new Sift(new SiftOptions { OctaveLayers = 0 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*OctaveLayers*");
        FluentActions.Invoking(() => new Sift(new SiftOptions { Sigma = -1 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Sigma*");
        var image = new byte[32 * 32];
        FluentActions.Invoking(() => sift.Compute(image, 32, 32, [new Keypoint(5, 5, 4, 0, 0, Keypoint.PackOctave(-2, 0))]))
            .Should().Throw<ArgumentException>().WithMessage("*octave -2*");
        FluentActions.Invoking(() => sift.Compute(image, 32, 32, [new Keypoint(5, 5, 0, 0, 0, 0)]))
            .Should().Throw<ArgumentException>().WithMessage("*non-positive size*");
        FluentActions.Invoking(() => sift.Compute(image, 32, 32, [new Keypoint(5, 5, 4, 0, 0, Keypoint.PackOctave(9, 0))]))
            .Should().Throw<ArgumentException>().WithMessage("*beyond the pyramid*");
    }

    [Fact]
    public void Compute_WithNoKeypoints_ReturnsAnEmptyResult()
    {
        var image = new byte[32 * 32];
        LocalFeatures features = new Sift().Compute(image, 32, 32, ReadOnlySpan<Keypoint>.Empty);
        features.Count.Should().Be(0);
    }

    [Fact]
    public void DetectAndCompute_HonoursCancellation()
    {
        SiftFixtures.Image image = SiftFixtures.Load("chelsea");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        FluentActions.Invoking(() => new Sift().DetectAndCompute(image.Pixels, image.Width, image.Height, cancelled.Token))
            .Should().Throw<OperationCanceledException>();
    }
}
