using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Distillation;

/// <summary>
/// Teacher → student embedding distillation for one batch: runs the frozen teacher in eval mode under <c>no_grad</c>, the
/// student as it is (train it in train mode), and returns
/// <c>distillationWeight · D(student, teacher) + taskWeight · T(student, labels)</c>, where D is a distillation loss
/// (e.g. <see cref="RkdDistanceLoss"/>, or several combined with <c>WeightedLossSum</c>) and T an optional metric-learning
/// loss on the labels (e.g. <c>TripletMarginLoss</c>). Optimise <see cref="TrainableParameters"/>: the student's plus any
/// learnable parts of the losses (such as <see cref="DirectDistillationLoss.Projection"/>); the teacher is never updated.
/// </summary>
public sealed class Distiller
{
    /// <summary>Creates the distiller.</summary>
    /// <param name="teacher">The trained model producing target embeddings; it is switched to eval mode.</param>
    /// <param name="student">The model being trained.</param>
    /// <param name="distillationLoss">D(studentEmbeddings, teacherEmbeddings).</param>
    /// <param name="distillationWeight">Weight of D; finite and non-negative.</param>
    /// <param name="taskLoss">Optional T(studentEmbeddings, labels).</param>
    /// <param name="taskWeight">Weight of T; finite and non-negative.</param>
    /// <exception cref="ArgumentException">Teacher and student are the same module, or a weight is negative or not finite.</exception>
    public Distiller(
        nn.Module<Tensor, Tensor> teacher,
        nn.Module<Tensor, Tensor> student,
        nn.Module<Tensor, Tensor, Tensor> distillationLoss,
        double distillationWeight = 1.0,
        nn.Module<Tensor, Tensor, Tensor>? taskLoss = null,
        double taskWeight = 1.0)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(distillationLoss);
        if (ReferenceEquals(teacher, student)) throw new ArgumentException("The teacher and the student must be different modules.", nameof(student));
        if (!(distillationWeight >= 0) || double.IsInfinity(distillationWeight))
            throw new ArgumentException($"The distillation weight is {distillationWeight}; it must be finite and non-negative.", nameof(distillationWeight));
        if (!(taskWeight >= 0) || double.IsInfinity(taskWeight))
            throw new ArgumentException($"The task weight is {taskWeight}; it must be finite and non-negative.", nameof(taskWeight));
        Teacher = teacher;
        Student = student;
        DistillationLoss = distillationLoss;
        DistillationWeight = distillationWeight;
        TaskLoss = taskLoss;
        TaskWeight = taskWeight;
        teacher.eval();
    }

    /// <summary>The model producing target embeddings.</summary>
    public nn.Module<Tensor, Tensor> Teacher { get; }

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Student { get; }

    /// <summary>D(studentEmbeddings, teacherEmbeddings).</summary>
    public nn.Module<Tensor, Tensor, Tensor> DistillationLoss { get; }

    /// <summary>Weight of the distillation loss.</summary>
    public double DistillationWeight { get; }

    /// <summary>T(studentEmbeddings, labels), or null.</summary>
    public nn.Module<Tensor, Tensor, Tensor>? TaskLoss { get; }

    /// <summary>Weight of the task loss.</summary>
    public double TaskWeight { get; }

    /// <summary>The parameters to optimise: the student's, then the losses' (each once); never the teacher's.</summary>
    public IEnumerable<Parameter> TrainableParameters()
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var teacherParameters = new HashSet<Parameter>(Teacher.parameters(), ReferenceEqualityComparer.Instance);
        IEnumerable<Parameter> all = Student.parameters().Concat(DistillationLoss.parameters());
        if (TaskLoss is not null) all = all.Concat(TaskLoss.parameters());
        foreach (Parameter parameter in all)
            if (!teacherParameters.Contains(parameter) && seen.Add(parameter)) yield return parameter;
    }

    /// <summary>Embeds the batch with both models and computes the weighted loss.</summary>
    /// <param name="inputs">The student's input batch (and the teacher's unless <paramref name="teacherInputs"/> is given).</param>
    /// <param name="labels">Labels for the task loss; required when there is one, ignored otherwise.</param>
    /// <param name="teacherInputs">The same samples prepared for the teacher (e.g. at a higher resolution), when they differ.</param>
    /// <exception cref="ArgumentException">The task loss needs labels and none were given, or the models' outputs are not N × d with equal N.</exception>
    public DistillationOutput Forward(Tensor inputs, Tensor? labels = null, Tensor? teacherInputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (TaskLoss is not null && labels is null)
            throw new ArgumentException("This distiller has a task loss, so labels are required.", nameof(labels));
        // Someone may have called train() on a parent module; the teacher's dropout and batch statistics must stay frozen.
        if (Teacher.training) Teacher.eval();
        Tensor teacherEmbeddings;
        using (no_grad()) teacherEmbeddings = Teacher.call(teacherInputs ?? inputs).detach();
        Tensor studentEmbeddings = Student.call(inputs);
        Tensor distillation = DistillationLoss.call(studentEmbeddings, teacherEmbeddings);
        Tensor total = distillation * DistillationWeight;
        Tensor? task = null;
        if (TaskLoss is not null)
        {
            task = TaskLoss.call(studentEmbeddings, labels!);
            total = total + task * TaskWeight;
        }
        return new DistillationOutput(total, distillation, task, studentEmbeddings, teacherEmbeddings);
    }
}
