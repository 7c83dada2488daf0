using DeepRetrieval.Aggregation;
using DeepRetrieval.Torch.Backbones;
using DeepRetrieval.Torch.Pooling;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Aggregation;

/// <summary>
/// Deep local features: the cells of a backbone's intermediate feature map as local descriptors (one per spatial
/// position), handed to the core aggregators (<see cref="VisualVocabulary"/>, <see cref="VladEncoder"/>,
/// <see cref="FisherVectorEncoder"/>, <see cref="AsmkIndex"/>, <see cref="InvertedFile"/>) exactly as SIFT descriptors
/// are. Any stage of any backbone works (<see cref="Backbone.ForwardStages"/>), as does any N × C × H × W tensor, for
/// example an ONNX model's intermediate output.
/// </summary>
public static class FeatureMapDescriptors
{
    /// <summary>Runs the backbone up to a stage (without gradients) and extracts every image's cells.</summary>
    /// <param name="backbone">The network, in the mode the caller chose (usually <c>eval()</c>).</param>
    /// <param name="images">N × C × H × W images, normalised as the backbone expects.</param>
    /// <param name="stageName">A name from <see cref="Backbone.Stages"/>; its stride places the cells in input pixels.</param>
    /// <param name="maxCells">Keep this many strongest cells per image (largest activation norm); 0 keeps all.</param>
    /// <param name="l2Normalize">L2-normalise every descriptor.</param>
    /// <returns>One set of descriptors per image, strongest first.</returns>
    /// <exception cref="ArgumentException">The images or stage name are invalid, or maxCells is negative.</exception>
    public static DeepLocalFeatures[] Extract(Backbone backbone, Tensor images, string stageName, int maxCells = 0, bool l2Normalize = true)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        int stride = backbone.Stages[backbone.StageIndex(stageName)].Stride;
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            Tensor maps = backbone.ForwardStages(images, stageName)[0];
            return FromMaps(maps, new FeatureMapCellOptions { Stride = stride, MaxCells = maxCells, L2Normalize = l2Normalize });
        }
    }

    /// <summary>Extracts every image's cells from a batch of feature maps.</summary>
    /// <param name="maps">N × C × H × W floating-point maps on any device.</param>
    /// <param name="options">Stride, selection and normalisation; null for all cells, stride 1, L2-normalised.</param>
    /// <returns>One set of descriptors per map.</returns>
    /// <exception cref="ArgumentException">The maps are not floating-point N × C × H × W, or hold non-finite values.</exception>
    public static DeepLocalFeatures[] FromMaps(Tensor maps, FeatureMapCellOptions? options = null)
    {
        FeatureMaps.Check(maps, nameof(maps));
        using var scope = NewDisposeScope();
        Tensor cpu = maps.detach().to(ScalarType.Float32).cpu().contiguous();
        int n = (int)cpu.shape[0], c = (int)cpu.shape[1], h = (int)cpu.shape[2], w = (int)cpu.shape[3];
        float[] values = cpu.data<float>().ToArray();
        var result = new DeepLocalFeatures[n];
        long size = (long)c * h * w;
        for (int i = 0; i < n; i++)
            result[i] = FeatureMapCells.FromChannelsFirst(values.AsSpan((int)(i * size), (int)size), c, h, w, options);
        return result;
    }
}
