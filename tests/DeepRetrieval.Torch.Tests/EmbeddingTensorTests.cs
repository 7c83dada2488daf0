using DeepRetrieval.Indexes;
using DeepRetrieval.Torch;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests;

public class EmbeddingTensorTests
{
    [Fact]
    public void ToRowMajor_CopiesRowsInOrder_EvenFromTransposedViews()
    {
        using var t = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]).t(); // 2 × 3 view with swapped strides
        EmbeddingTensor.ToRowMajor(t).Should().Equal(1f, 3f, 5f, 2f, 4f, 6f);
    }

    [Fact]
    public void ToRowMajor_FeedsAnIndex()
    {
        using var embeddings = tensor(new double[] { 0, 0, 1, 1, 5, 5 }, [3, 2]);
        var index = new FlatIndex(2);
        index.Add(EmbeddingTensor.ToRowMajor(embeddings));
        index.Search([0.9f, 0.9f], 1).Ids.Should().Equal(1L);
    }

    [Fact]
    public void RoundTrip_PreservesValuesAndShape()
    {
        float[] values = [1.5f, -2f, 0f, 7f];
        using Tensor t = EmbeddingTensor.FromRowMajor(values, 2);
        t.shape.Should().Equal(2L, 2L);
        EmbeddingTensor.ToRowMajor(t).Should().Equal(values);
    }

    [Fact]
    public void BadTensors_AreRejectedWithClearMessages()
    {
        using var vector = zeros(4);
        FluentActions.Invoking(() => EmbeddingTensor.ToRowMajor(vector)).Should().Throw<ArgumentException>().WithMessage("*2-D*[4]*");
        using var integers = zeros([2, 2], ScalarType.Int64);
        FluentActions.Invoking(() => EmbeddingTensor.ToRowMajor(integers)).Should().Throw<ArgumentException>().WithMessage("*floating point*");
        using var nan = tensor(new float[] { float.NaN, 1 }, [1, 2]);
        FluentActions.Invoking(() => EmbeddingTensor.ToRowMajor(nan)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => EmbeddingTensor.FromRowMajor([1f, 2f, 3f], 2)).Should().Throw<ArgumentException>().WithMessage("*dimension 2*");
    }
}
