namespace DeepRetrieval.Aggregation;

/// <summary>Reported after every EM iteration of <see cref="GaussianMixture.Train"/>.</summary>
/// <param name="Iteration">Zero-based iteration.</param>
/// <param name="MeanLogLikelihood">Mean log-likelihood per training point before this iteration's M-step.</param>
/// <param name="Elapsed">Time since training started, initialisation included.</param>
public readonly record struct GaussianMixtureProgress(int Iteration, double MeanLogLikelihood, TimeSpan Elapsed);
