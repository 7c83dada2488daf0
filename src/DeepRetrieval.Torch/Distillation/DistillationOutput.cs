using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>One <see cref="Distiller.Forward"/> result.</summary>
/// <param name="Loss">The weighted total to back-propagate: distillation weight × distillation loss (+ task weight × task loss).</param>
/// <param name="DistillationLoss">The unweighted distillation loss.</param>
/// <param name="TaskLoss">The unweighted task loss, or null when the distiller has none.</param>
/// <param name="StudentEmbeddings">The student's embeddings (on the graph).</param>
/// <param name="TeacherEmbeddings">The teacher's embeddings (no gradient).</param>
public sealed record DistillationOutput(Tensor Loss, Tensor DistillationLoss, Tensor? TaskLoss, Tensor StudentEmbeddings, Tensor TeacherEmbeddings);
