using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Augmentation;

/// <summary>Argument checks shared by the mixers.</summary>
internal static class MixerInput
{
    /// <summary>Throws unless the images are a 4-D floating batch and the labels have one row per image.</summary>
    public static void Check(Tensor images, Tensor labels, Generator generator)
    {
        BatchInput.Check(images, generator);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.dim() == 0 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"There are {images.shape[0]} images but the labels have shape [{string.Join(", ", labels.shape)}]; one label row per image is needed.", nameof(labels));
        if (images.shape[0] == 0) throw new ArgumentException("The batch is empty.", nameof(images));
    }
}
