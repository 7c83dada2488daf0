using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>
/// Random Erasing (Zhong et al., "Random Erasing Data Augmentation", AAAI 2020), parameterised as torchvision's
/// <c>RandomErasing</c>: with probability p a sample gets one box whose area is a fraction uniform in <c>scale</c> of the
/// image and whose aspect ratio h/w is log-uniform in <c>ratio</c>; up to 10 attempts must give h &lt; H and w &lt; W,
/// otherwise the sample is left unchanged. The box is filled per <see cref="ErasingValue"/>. Boxes and decisions are per sample.
/// </summary>
public sealed class RandomErasing : IBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="p">Probability that a sample is erased (torchvision 0.5).</param>
    /// <param name="scaleMin">Smallest erased-area fraction (torchvision 0.02).</param>
    /// <param name="scaleMax">Largest erased-area fraction (torchvision 0.33).</param>
    /// <param name="ratioMin">Smallest aspect ratio h/w (torchvision 0.3).</param>
    /// <param name="ratioMax">Largest aspect ratio h/w (torchvision 3.3).</param>
    /// <param name="value">What fills the box.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is not a probability, or a range is empty, not finite or out of bounds.</exception>
    public RandomErasing(double p = 0.5, double scaleMin = 0.02, double scaleMax = 0.33, double ratioMin = 0.3, double ratioMax = 3.3, ErasingValue value = ErasingValue.Zero)
    {
        BatchInput.CheckProbability(p, nameof(p));
        BatchInput.CheckRange(scaleMin, scaleMax, 0, 1, "scale");
        BatchInput.CheckRange(ratioMin, ratioMax, double.Epsilon, double.MaxValue, "ratio");
        if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown erasing value.");
        Probability = p;
        Scale = (scaleMin, scaleMax);
        Ratio = (ratioMin, ratioMax);
        Value = value;
    }

    /// <summary>Probability that a sample is erased.</summary>
    public double Probability { get; }

    /// <summary>Erased-area fraction range.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>Aspect-ratio (h/w) range.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>What fills the box.</summary>
    public ErasingValue Value { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        using var scope = NewDisposeScope();
        return Erase(images, generator, out _).MoveToOuterDisposeScope();
    }

    /// <summary>Erases and reports the N × 1 × H × W mask of erased pixels.</summary>
    internal Tensor Erase(Tensor images, Generator generator, out Tensor mask)
    {
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        Tensor erase = BatchInput.Decide(generator, n, Probability, images.device).view(-1, 1, 1, 1);
        BoxBatch boxes = BoxBatch.Sample(n, height, width, Scale, Ratio, forErasing: true, generator);
        mask = boxes.Mask(height, width, images.device).logical_and(erase).logical_and(boxes.Found.to(images.device).view(-1, 1, 1, 1));
        Tensor fill = Value switch
        {
            ErasingValue.Zero => zeros(1, images.dtype, images.device),
            ErasingValue.Random => BatchInput.Normal(generator, images.dtype, images.device, images.shape),
            _ => images.mean([2, 3], keepdim: true),
        };
        return where(mask, fill, images);
    }
}
