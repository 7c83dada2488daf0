using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// Base of the knowledge-distillation losses: a scalar that measures how far a student's embeddings are from a teacher's
/// for the same batch. Call it as a module, <c>loss.call(studentEmbeddings, teacherEmbeddings)</c>. The teacher's embeddings
/// are targets: they are detached, so no gradient reaches the teacher even if the caller forgot <c>no_grad</c>.
/// </summary>
public abstract class DistillationLoss : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the loss.</summary>
    /// <param name="name">Module name.</param>
    protected DistillationLoss(string name) : base(name)
    {
    }

    /// <summary>The fewest rows a batch needs (relational losses compare pairs, so they need two).</summary>
    protected virtual int MinimumBatchSize => 1;

    /// <summary>Whether student and teacher must have the same width.</summary>
    protected virtual bool RequiresEqualWidths => false;

    /// <summary>The loss for a batch.</summary>
    /// <param name="student">N × d_s floating-point student embeddings.</param>
    /// <param name="teacher">N × d_t floating-point teacher embeddings of the same inputs.</param>
    /// <exception cref="ArgumentException">Shapes or types are wrong, the batch is too small, or an input holds NaN or infinity.</exception>
    public override Tensor forward(Tensor student, Tensor teacher)
    {
        EmbeddingInput.Check(student, nameof(student));
        EmbeddingInput.Check(teacher, nameof(teacher));
        if (student.shape[0] != teacher.shape[0])
            throw new ArgumentException($"There are {student.shape[0]} student embeddings but {teacher.shape[0]} teacher embeddings.", nameof(teacher));
        if (student.shape[0] < MinimumBatchSize)
            throw new ArgumentException($"{GetName()} needs at least {MinimumBatchSize} rows; got {student.shape[0]}.", nameof(student));
        if (RequiresEqualWidths && student.shape[1] != teacher.shape[1])
            throw new ArgumentException($"Student embeddings have {student.shape[1]} components but teacher embeddings have {teacher.shape[1]}.", nameof(teacher));
        return Compute(student, teacher.detach().to(student.dtype));
    }

    /// <summary>Computes the loss on validated inputs; <paramref name="teacher"/> is detached and of the student's dtype.</summary>
    /// <param name="student">N × d_s student embeddings.</param>
    /// <param name="teacher">N × d_t teacher embeddings.</param>
    protected abstract Tensor Compute(Tensor student, Tensor teacher);
}
