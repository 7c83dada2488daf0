namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>
/// Tests that seed torch's global generator (BackboneOptions.Seed → manual_seed) and then compare draws: they run alone,
/// after the parallel test classes, because any other test drawing random numbers in between changes the draws.
/// </summary>
[CollectionDefinition(nameof(GlobalTorchGeneratorCollection), DisableParallelization = true)]
public sealed class GlobalTorchGeneratorCollection;
