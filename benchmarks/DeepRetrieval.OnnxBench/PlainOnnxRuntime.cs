using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DeepRetrieval.OnnxBench;

/// <summary>
/// ONNX Runtime used the way its samples show: a session with default options except the thread count, a new
/// <see cref="DenseTensor{T}"/> and <see cref="NamedOnnxValue"/> per batch, outputs allocated by the runtime and copied out. The
/// embedder's own handling (pinned reused buffers, pre-bound outputs) is measured against it.
/// </summary>
internal sealed class PlainOnnxRuntime : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _input;

    public PlainOnnxRuntime(string modelPath, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        _session = new InferenceSession(modelPath, options);
        _input = _session.InputNames[0];
    }

    public float[] Embed(float[] images, int count, int batch)
    {
        const int length = 3 * 224 * 224;
        var result = new List<float>();
        for (int start = 0; start < count; start += batch)
        {
            int items = Math.Min(batch, count - start);
            var tensor = new DenseTensor<float>(images.AsMemory(start * length, items * length), [items, 3, 224, 224]);
            using var outputs = _session.Run([NamedOnnxValue.CreateFromTensor(_input, tensor)]);
            float[] values = outputs[0].AsEnumerable<float>().ToArray();
            for (int i = 0; i < items; i++)
            {
                Span<float> row = values.AsSpan(i * 512, 512);
                float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(row));
                System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
            }
            result.AddRange(values);
        }
        return [.. result];
    }

    public void Dispose() => _session.Dispose();
}
