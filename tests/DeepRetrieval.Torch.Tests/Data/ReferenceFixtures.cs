using System.Runtime.CompilerServices;
using DeepRetrieval.Data;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

/// <summary>
/// The fixtures Data/Reference/make_image_fixtures.py wrote with torchvision 0.14 and PIL 9.4, and the scikit-image sample
/// photos they were made from (Debian's python3-skimage).
/// </summary>
internal static class ReferenceFixtures
{
    public const string Photos = "/usr/lib/python3/dist-packages/skimage/data";

    public static string Path(string name) => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(ThisFile())!, "Reference", name);

    public static string Photo(string name) => System.IO.Path.Combine(Photos, name);

    /// <summary>A float32 C × H × W tensor, saved by numpy as C × (H·W) (the core's reader takes one or two dimensions).</summary>
    public static Tensor Tensor(string name, long channels, long height, long width)
    {
        NpyArray array = NpyReader.Read(Path(name));
        array.Shape.Should().Equal([(int)channels, (int)(height * width)], name);
        return tensor(array.Data, [channels, height, width]);
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
