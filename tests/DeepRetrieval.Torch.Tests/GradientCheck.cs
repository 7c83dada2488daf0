using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests;

/// <summary>Compares autograd gradients with central finite differences in float64.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Asserts that the gradient of the scalar <paramref name="f"/> at <paramref name="input"/> (float64) matches central
    /// differences within <paramref name="tolerance"/> (absolute, plus the same relative to the gradient's size).
    /// </summary>
    public static void AssertMatches(Func<Tensor, Tensor> f, Tensor input, double step = 1e-6, double tolerance = 1e-5)
    {
        using var scope = NewDisposeScope();
        Tensor x = input.detach().to(ScalarType.Float64).clone().requires_grad_(true);
        Tensor value = f(x);
        value.numel().Should().Be(1, "the function must return a scalar");
        value.backward();
        double[] analytic = x.grad!.data<double>().ToArray();

        double[] point = x.detach().data<double>().ToArray();
        long[] shape = x.shape;
        var numeric = new double[point.Length];
        using (no_grad())
        {
            for (int i = 0; i < point.Length; i++)
            {
                double original = point[i];
                point[i] = original + step;
                double plus = f(tensor(point, shape, ScalarType.Float64)).item<double>();
                point[i] = original - step;
                double minus = f(tensor(point, shape, ScalarType.Float64)).item<double>();
                point[i] = original;
                numeric[i] = (plus - minus) / (2 * step);
            }
        }
        double scale = Math.Max(1, numeric.Max(Math.Abs));
        for (int i = 0; i < point.Length; i++)
            analytic[i].Should().BeApproximately(numeric[i], tolerance * scale, $"gradient component {i} (autograd vs finite differences)");
    }
}
