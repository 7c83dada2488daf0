using TorchSharp;
using DeepRetrieval.Torch.Losses;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Losses;

/// <summary>Small literal tensors and helpers shared by the softmax-family loss tests.</summary>
internal static class SoftmaxLossTestTensors
{
    public static Tensor Rows(params double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Float64);

    public static Tensor Labels(params long[] labels) => tensor(labels);

    /// <summary>Moves the loss to float64 and copies <paramref name="weight"/> (one row per class) into its class weights.</summary>
    public static T WithWeight<T>(T loss, Tensor weight) where T : ClassifierLoss
    {
        loss.to(ScalarType.Float64);
        using (no_grad()) loss.Weight.copy_(weight);
        return loss;
    }

    public static double Value(Tensor loss) => loss.item<double>();

    /// <summary>log(1 + e^x), the two-class cross-entropy when the other logit exceeds the target's by x.</summary>
    public static double Softplus(double x) => Math.Log(1 + Math.Exp(x));
}
