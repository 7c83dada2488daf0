namespace DeepRetrieval.OnnxRuntime.Extraction;

/// <summary>
/// Where an extraction run spent its time. Decoding and preparing run on several threads at once, so they are summed thread
/// time (they can exceed the wall time); embedding is the wall time of the model runs, which the decoders overlap.
/// </summary>
/// <param name="Decode">Thread time reading and decoding files.</param>
/// <param name="Prepare">Thread time resizing, cropping, flipping and normalising into input planes.</param>
/// <param name="Embed">Wall time in the model (pooling, whitening and TTA averaging included).</param>
/// <param name="Wall">The run's wall time.</param>
public sealed record ExtractionStageTimes(TimeSpan Decode, TimeSpan Prepare, TimeSpan Embed, TimeSpan Wall);
