namespace DeepRetrieval.Imaging.Hashing;

/// <summary>Computes one kind of perceptual hash of an image. Implementations are immutable and thread-safe.</summary>
public interface IPerceptualHasher
{
    /// <summary>The registry name (<see cref="PerceptualHashers"/>), e.g. <c>phash</c>.</summary>
    string Name { get; }

    /// <summary>Number of bits of every hash this hasher produces.</summary>
    int BitCount { get; }

    /// <summary>Hashes an image (any pixel format; colour is turned to grey as the reference does).</summary>
    /// <param name="image">The decoded image.</param>
    PerceptualHash Compute(PixelImage image);
}
