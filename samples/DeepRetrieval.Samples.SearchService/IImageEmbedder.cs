namespace DeepRetrieval.Samples.SearchService;

/// <summary>
/// Turns an image into the embedding the collection stores: the seam for search by image. Register an implementation (the
/// ONNX embedder of DeepRetrieval's image packages, say) and <c>POST /collections/{name}/search/image</c> answers; without
/// one it answers 501.
/// </summary>
public interface IImageEmbedder
{
    /// <summary>The embedding's dimension (must equal the collection's).</summary>
    int Dimension { get; }

    /// <summary>Embeds an encoded image (JPEG, PNG …).</summary>
    /// <param name="image">The image bytes.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<float[]> EmbedAsync(Stream image, CancellationToken cancellationToken);
}
