namespace DeepRetrieval.Torch.Training;

/// <summary>Leave-one-out retrieval metrics of a validation set (Musgrave et al. 2020).</summary>
/// <param name="PrecisionAt1">Fraction of queries whose nearest other item shares their label.</param>
/// <param name="MapAtR">MAP@R.</param>
/// <param name="RPrecision">R-Precision.</param>
public sealed record ValidationMetrics(double PrecisionAt1, double MapAtR, double RPrecision);
