namespace DeepRetrieval.Torch.Backbones;

/// <summary>
/// One stage of a <see cref="Backbone"/>: the unit that layer selection returns and that freezing works on.
/// </summary>
/// <param name="Name">The stage name, as in timm's <c>feature_info</c> module names (<c>stem</c>, <c>layer1</c>, ...).</param>
/// <param name="Channels">Channels of the stage's output map.</param>
/// <param name="Stride">Total stride of the stage's output map relative to the input image.</param>
public sealed record BackboneStage(string Name, int Channels, int Stride);
