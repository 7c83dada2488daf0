using DeepRetrieval.Torch.Tests.Backbones.Fixtures;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Backbones;

/// <summary>Tensors of Fixtures/TransformerFixtures.g.cs (made by Fixtures/make_transformer_fixtures.py).</summary>
internal static class TransformerFixtureTensors
{
    public static Tensor Get(string name)
    {
        var (shape, data) = TransformerFixtures.Tensors[name];
        var bytes = Convert.FromBase64String(data);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values, shape);
    }

    /// <summary>The state dict stored under <paramref name="prefix"/> (e.g. <c>vit.state.</c>), keys without the prefix.</summary>
    public static Dictionary<string, Tensor> StateDict(string prefix) =>
        TransformerFixtures.Tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(k => k[prefix.Length..], Get);
}
