using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// Direct (absolute) embedding distillation: the student regresses the teacher's embedding of each input, by mean squared
/// error or by cosine distance. When the widths differ, a learnable linear map without bias (a sub-module named
/// <c>projection</c>, PyTorch's default initialisation) first takes the student's embedding to the teacher's width; train it
/// with the student (it is among <c>parameters()</c>) and drop it at inference, where the student's own embedding is used.
/// </summary>
public sealed class DirectDistillationLoss : DistillationLoss
{
    private readonly Linear? projection;

    /// <summary>Creates the loss.</summary>
    /// <param name="studentDimension">Width of the student's embeddings.</param>
    /// <param name="teacherDimension">Width of the teacher's embeddings.</param>
    /// <param name="match">How the embeddings are compared.</param>
    /// <param name="alwaysProject">Learn a projection even when the widths are equal.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive or the match is unknown.</exception>
    public DirectDistillationLoss(int studentDimension, int teacherDimension, EmbeddingMatch match = EmbeddingMatch.MeanSquaredError, bool alwaysProject = false)
        : base(nameof(DirectDistillationLoss))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(studentDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(teacherDimension);
        if (!Enum.IsDefined(match)) throw new ArgumentOutOfRangeException(nameof(match), match, "Unknown embedding match.");
        StudentDimension = studentDimension;
        TeacherDimension = teacherDimension;
        Match = match;
        if (alwaysProject || studentDimension != teacherDimension)
            projection = nn.Linear(studentDimension, teacherDimension, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Width of the student's embeddings.</summary>
    public int StudentDimension { get; }

    /// <summary>Width of the teacher's embeddings.</summary>
    public int TeacherDimension { get; }

    /// <summary>How the embeddings are compared.</summary>
    public EmbeddingMatch Match { get; }

    /// <summary>The learnable student-to-teacher map (weight teacher × student), or null when none is used.</summary>
    public Linear? Projection => projection;

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor student, Tensor teacher)
    {
        if (student.shape[1] != StudentDimension)
            throw new ArgumentException($"Student embeddings must have {StudentDimension} components; got {student.shape[1]}.", nameof(student));
        if (teacher.shape[1] != TeacherDimension)
            throw new ArgumentException($"Teacher embeddings must have {TeacherDimension} components; got {teacher.shape[1]}.", nameof(teacher));
        Tensor mapped = projection is null ? student : projection.forward(student);
        return Match == EmbeddingMatch.MeanSquaredError
            ? (mapped - teacher).square().mean()
            : (1 - nn.functional.cosine_similarity(mapped, teacher, dim: 1, eps: 1e-8)).mean();
    }
}
