using DeepRetrieval.Imaging;
using DeepRetrieval.Samples.CopyDetection;
using DeepRetrieval.Samples.CopyDetection.Evaluation;
using DeepRetrieval.Samples.CopyDetection.Methods;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepRetrieval.Samples.Tests.CopyDetection;

/// <summary>
/// The classical SIFT methods (<c>--methods sift-bovw,vlad</c>) on a small subset of Debian's photos: 6 originals × 3 edits,
/// 12 distractors (GNOME + MATE + scikit-image), vocabularies learnt from the distractors only. The floors are the values
/// this configuration measured (seed 2021; the copies and the training are deterministic), less a margin for another
/// libjpeg-turbo build.
/// </summary>
public sealed class ClassicalMethodsTests
{
    private static readonly string[] Edits = ["rotate-90", "crop-offset", "jpeg-10"];

    [Fact]
    public async Task Run_WithSiftBovwAndVlad_MeetsTheMeasuredRecallFloors()
    {
        DebianPhotos.Require();
        string folder = DebianPhotos.TemporaryFolder();
        try
        {
            var settings = new BenchmarkSettings
            {
                PhotoFolders = DebianPhotos.Folders,
                Originals = 6,
                Distractors = 12,
                Transforms = Edits,
                Methods = ["sift-bovw", "vlad"],
                CacheDirectory = Path.Combine(folder, "cache"),
                OutputDirectory = null,
                Threads = 2,
                GridQueries = 0,
            };

            BenchmarkReport report = await CopyDetectionBenchmark.RunAsync(settings, NullLogger.Instance);

            (report.Originals, report.Distractors, report.Copies).Should().Be((6, 12, 18));
            MethodResult bovw = report["SIFT BoVW + RANSAC"], vlad = report["SIFT VLAD"];
            // Measured: both 1.000 Recall@1, mAP, μAP and recall at precision 0.9 (every original first, every true pair above
            // every wrong one); the floors allow one miss in 18.
            foreach (MethodResult method in (MethodResult[])[bovw, vlad])
            {
                method.RecallAt1.Should().BeGreaterThanOrEqualTo(0.94, method.Method);
                method.MeanAveragePrecision.Should().BeGreaterThanOrEqualTo(0.94, method.Method);
                method.MicroAveragePrecision.Should().BeGreaterThanOrEqualTo(0.94, method.Method);
                foreach (string edit in Edits)
                    method.RecallAt1ByTransform.Single(p => p.Key == edit).Value.Should().BeGreaterThanOrEqualTo(5 / 6.0, $"{method.Method} survives {edit}");
            }
            // Verified pairs (≥ 15 inliers) score above every unverified one, across all queries.
            bovw.RecallAtPrecision90.Should().BeGreaterThanOrEqualTo(0.94);
            foreach (MethodResult method in report.Methods)
            {
                method.TrainingSeconds.Should().BePositive($"{method.Method} learns from the distractors");
                method.MillisecondsPerReference.Should().BePositive();
                method.MillisecondsPerQuery.Should().BePositive();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Score_BeforeTraining_Throws()
    {
        using var vlad = new VladDetector(seed: 1, threads: 1);
        vlad.AddReference(new PixelImage(32, 32, PixelFormat.Gray8));
        vlad.Invoking(v => v.Score(new PixelImage(32, 32, PixelFormat.Gray8), new Dictionary<string, float[]>()))
            .Should().Throw<InvalidOperationException>().WithMessage("SIFT VLAD must be trained*");
        vlad.Invoking(v => v.IndexReferences()).Should().Throw<InvalidOperationException>().WithMessage("SIFT VLAD must be trained*");
    }

    [Fact]
    public void Train_OnDistractorsWithoutKeypoints_NamesTheProblem()
    {
        using var bovw = new SiftBovwDetector(shortListLength: 10, minimumInliers: 15, seed: 1, threads: 1);
        bovw.AddReference(new PixelImage(64, 64, PixelFormat.Gray8)); // uniform: no keypoint
        bovw.Invoking(b => b.Train([0])).Should().Throw<InvalidOperationException>().WithMessage("*distractors have none*");
    }

    [Fact]
    public void Validate_RefusesAClassicalMethodWithoutDistractors()
    {
        var settings = new BenchmarkSettings { Methods = ["phash", "fisher"], Distractors = 0 };
        settings.Invoking(s => s.Validate()).Should().Throw<UsageException>().WithMessage("fisher learns its vocabulary from the distractors*");
    }
}
