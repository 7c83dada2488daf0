using DeepRetrieval.OnnxRuntime.Models;
using DeepRetrieval.OnnxRuntime.Preprocessing;
using DeepRetrieval.Pooling;
using Microsoft.ML.OnnxRuntime;

namespace DeepRetrieval.OnnxRuntime;

/// <summary>
/// ML.NET's ImageNet-pretrained ResNet-18 as the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> ships it (and copies
/// to an app's output as <c>DnnImageModels/</c>): <c>ResNet18Onnx/ResNet18.onnx</c>, a CNTK export with a fixed 1 × 3 × 224 × 224
/// input <c>Input247</c> and the 512-d average pool <c>Pooling395_Output_0</c>, fed by <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>.
/// ML.NET's <c>DnnFeaturizeImage</c> gives the preprocessing model the planes that <c>ExtractPixels()</c> makes with its defaults
/// (R, G, B planes of 0–255 values); that model reorders them to B, G, R and subtracts a 3 × 224 × 224 mean image.
/// </summary>
public static class MlNetResNet18
{
    /// <summary>The network file under a <c>DnnImageModels</c> folder.</summary>
    /// <param name="dnnImageModelsDirectory">The folder holding <c>ResNet18Onnx</c> and <c>ResNetPrepOnnx</c>.</param>
    public static string ModelPath(string dnnImageModelsDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dnnImageModelsDirectory);
        return Path.Combine(dnnImageModelsDirectory, "ResNet18Onnx", "ResNet18.onnx");
    }

    /// <summary>The preprocessing model file under a <c>DnnImageModels</c> folder.</summary>
    /// <param name="dnnImageModelsDirectory">The folder holding <c>ResNet18Onnx</c> and <c>ResNetPrepOnnx</c>.</param>
    public static string PreprocessModelPath(string dnnImageModelsDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dnnImageModelsDirectory);
        return Path.Combine(dnnImageModelsDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
    }

    /// <summary>
    /// Options that embed exactly as ML.NET's pipeline feeds the network: BGR planes of 0–255 values minus the preprocessing model's
    /// mean image. With a pooling, the output is the last feature map (512 × 7 × 7, the input of the network's average pool) pooled
    /// with it; without, the network's own 512-d average pool.
    /// </summary>
    /// <param name="dnnImageModelsDirectory">The folder holding <c>ResNet18Onnx</c> and <c>ResNetPrepOnnx</c>.</param>
    /// <param name="pooling">GeM, MAC, SPoC or R-MAC over the last feature map; null for the network's average pool.</param>
    /// <returns>Options to pass, possibly changed with a <c>with</c> expression, to <see cref="OnnxEmbedder"/> with <see cref="ModelPath"/>.</returns>
    /// <exception cref="FileNotFoundException">A model file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not the model expected.</exception>
    public static OnnxEmbedderOptions Options(string dnnImageModelsDirectory, IFeatureMapPooling? pooling = null)
    {
        InputNormalization normalization = Normalization(PreprocessModelPath(dnnImageModelsDirectory));
        string? featureMap = null;
        if (pooling is not null)
        {
            string modelPath = ModelPath(dnnImageModelsDirectory);
            featureMap = OnnxModelGraph.Read(modelPath).LastPoolingInput
                ?? throw new InvalidDataException($"'{modelPath}' has no average pool whose input could be pooled instead.");
        }
        return new OnnxEmbedderOptions { Normalization = normalization, OutputName = featureMap, Pooling = pooling };
    }

    /// <summary>
    /// Reads the normalisation out of ML.NET's <c>ResNetPreprocess.onnx</c>: it runs the model on probe inputs and checks that it
    /// only reorders R, G, B planes to B, G, R and subtracts a fixed image, whose values it then uses, so embeddings equal ML.NET's
    /// bit for bit at the network's input.
    /// </summary>
    /// <param name="preprocessModelPath">The <c>ResNetPreprocess.onnx</c> file.</param>
    /// <returns>A <see cref="ChannelOrder.Bgr"/> normalisation with divisor 1 and the mean image.</returns>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, or not one that reorders to BGR and subtracts a mean image.</exception>
    public static InputNormalization Normalization(string preprocessModelPath)
    {
        OnnxModelGraph.Read(preprocessModelPath);
        InferenceSession session;
        try
        {
            session = new InferenceSession(preprocessModelPath);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load '{preprocessModelPath}': {e.Message.Trim()}", e);
        }
        using var owned = session;
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1)
            throw NotPreprocessing(preprocessModelPath, "it does not have one input and one output");
        (string inputName, NodeMetadata input) = session.InputMetadata.Single();
        int[] dims = input.Dimensions;
        if (dims.Length != 4 || dims[1] != 3 || dims[2] <= 0 || dims[3] <= 0 || dims[0] is not (1 or -1))
            throw NotPreprocessing(preprocessModelPath, $"its input is [{string.Join(", ", dims)}], not 1 × 3 × H × W");
        int height = dims[2], width = dims[3], plane = height * width;
        string outputName = session.OutputNames[0];

        float[] Run(float[] planes)
        {
            using OrtValue value = OrtValue.CreateTensorValueFromMemory(planes, [1, 3, height, width]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [inputName], [value], [outputName]);
            float[] output = results[0].GetTensorDataAsSpan<float>().ToArray();
            if (output.Length != 3 * plane)
                throw NotPreprocessing(preprocessModelPath, $"its output has {output.Length} values, not 3 × {height} × {width}");
            return output;
        }

        // Zeros give minus the mean image; a probe with distinct byte values in every pixel and plane must come out as its planes in
        // B, G, R order minus that image, in float32 exactly.
        float[] meanImage = Run(new float[3 * plane]);
        for (int i = 0; i < meanImage.Length; i++) meanImage[i] = -meanImage[i];
        var probe = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) probe[c * plane + i] = (i * 7 + c * 85) % 256;
        float[] probed = Run(probe);
        for (int k = 0; k < 3; k++)
        {
            for (int i = 0; i < plane; i++)
            {
                if (probed[k * plane + i] != probe[(2 - k) * plane + i] - meanImage[k * plane + i])
                    throw NotPreprocessing(preprocessModelPath, $"output plane {k} at pixel {i} is not input plane {2 - k} minus a fixed image");
            }
        }
        return InputNormalization.WithMeanImage(ChannelOrder.Bgr, 1f, meanImage, height, width);
    }

    private static InvalidDataException NotPreprocessing(string path, string reason) =>
        new($"'{path}' is not ML.NET's ResNet preprocessing model (RGB planes → BGR minus a mean image): {reason}.");
}
