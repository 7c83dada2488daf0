namespace DeepRetrieval.OnnxRuntime.Models;

/// <summary>One node of an ONNX graph, as listed in the file.</summary>
/// <param name="OpType">The operator, e.g. <c>Conv</c> or <c>GlobalAveragePool</c>.</param>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="Inputs">Names of the values it reads (empty strings for omitted optional inputs).</param>
/// <param name="Outputs">Names of the values it produces; any of them can be selected as the embedder's output.</param>
public sealed record OnnxNodeInfo(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);
