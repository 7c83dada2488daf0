using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>Applies batch transforms one after another, all drawing from the same generator.</summary>
public sealed class Compose : IBatchTransform
{
    private readonly IBatchTransform[] _transforms;

    /// <summary>Creates the chain.</summary>
    /// <param name="transforms">The transforms in the order they run.</param>
    /// <exception cref="ArgumentException">A transform is null.</exception>
    public Compose(params IBatchTransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        for (int i = 0; i < transforms.Length; i++)
            if (transforms[i] is null) throw new ArgumentException($"Transform {i} is null.", nameof(transforms));
        _transforms = (IBatchTransform[])transforms.Clone();
    }

    /// <summary>The transforms in the order they run.</summary>
    public IReadOnlyList<IBatchTransform> Transforms => _transforms;

    /// <inheritdoc/>
    public Tensor Apply(Tensor images, Generator generator)
    {
        BatchInput.Check(images, generator);
        Tensor current = images;
        foreach (IBatchTransform transform in _transforms) current = transform.Apply(current, generator);
        return current;
    }
}
