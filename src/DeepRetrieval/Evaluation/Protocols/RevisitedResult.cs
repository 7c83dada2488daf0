namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>The three revisited settings' results, as revisitop prints them (mAP E / M / H and mP@k).</summary>
/// <param name="Easy">Result of the Easy setting.</param>
/// <param name="Medium">Result of the Medium setting.</param>
/// <param name="Hard">Result of the Hard setting.</param>
public sealed record RevisitedResult(InstanceRetrievalResult Easy, InstanceRetrievalResult Medium, InstanceRetrievalResult Hard);
