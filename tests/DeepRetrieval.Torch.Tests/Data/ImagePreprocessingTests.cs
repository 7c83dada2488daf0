using DeepRetrieval.Imaging;
using DeepRetrieval.Imaging.Processing;
using DeepRetrieval.Torch.Tests.Augmentation;
using DeepRetrieval.Torch.Data;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Data;

/// <summary>
/// <see cref="ImagePreprocessing"/> through the image package against torchvision's transforms on real photos; the expected
/// tensors come from Data/Reference/make_image_fixtures.py (torchvision 0.14, PIL 9.4).
/// </summary>
public sealed class ImagePreprocessingTests
{
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    [Theory]
    [InlineData("chelsea.png", "preprocessing_chelsea_shorter64_crop56_imagenet.npy")]
    [InlineData("rocket.jpg", "preprocessing_rocket_shorter64_crop56_imagenet.npy")]
    public void ShorterSideCropAndNormalize_EqualTorchvisionsResizeCenterCropToTensorNormalize(string photo, string fixture)
    {
        using var scope = NewDisposeScope();
        var preprocessing = new ImagePreprocessing
        {
            ResizeMode = ImageResizeMode.ShorterSide, Size = 64, CenterCropSize = 56, Mean = ImageNetMean, Std = ImageNetStd,
        };

        Tensor actual = ImageTensor.Load(ReferenceFixtures.Photo(photo), preprocessing);

        Tensor expected = ReferenceFixtures.Tensor(fixture, 3, 56, 56);
        actual.shape.Should().Equal(expected.shape);
        actual.IsEqualTo(expected).Should().BeTrue($"every value equals torchvision's (largest difference {(actual - expected).abs().max().item<float>()})");
    }

    [Fact]
    public void GreySquareResize_EqualsPilsConvertLThenResize()
    {
        using var scope = NewDisposeScope();
        var preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.Square, Size = 40, Grayscale = true };

        Tensor actual = ImageTensor.Load(ReferenceFixtures.Photo("chelsea.png"), preprocessing);

        actual.IsEqualTo(ReferenceFixtures.Tensor("preprocessing_chelsea_gray_square40.npy", 1, 40, 40)).Should().BeTrue();
    }

    [Fact]
    public void LongerSide_EqualsPilsResizeToTheTruncatedSize()
    {
        using var scope = NewDisposeScope();
        var preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.LongerSide, Size = 50 };

        Tensor actual = ImageTensor.Load(ReferenceFixtures.Photo("chelsea.png"), preprocessing);

        actual.shape.Should().Equal(3, 33, 50);
        actual.IsEqualTo(ReferenceFixtures.Tensor("preprocessing_chelsea_longer50.npy", 3, 33, 50)).Should().BeTrue();
    }

    [Fact]
    public void FromImage_OfADecodedImage_EqualsLoadingTheFile_AndAnImageFileSetsBatch()
    {
        using var scope = NewDisposeScope();
        var preprocessing = new ImagePreprocessing { ResizeMode = ImageResizeMode.ShorterSide, Size = 64, CenterCropSize = 56, Mean = ImageNetMean, Std = ImageNetStd };
        string path = ReferenceFixtures.Photo("chelsea.png");

        Tensor fromFile = ImageTensor.Load(path, preprocessing);
        Tensor fromRgba = ImageTensor.FromImage(ImageDecoder.Decode(path).ConvertTo(PixelFormat.Rgba32), preprocessing);
        Tensor fromSet = ImageFileSet.FromFiles([path], new ImageFileSetOptions { Preprocessing = preprocessing }).ReadBatches(1).Single().Images[0];

        fromRgba.IsEqualTo(fromFile).Should().BeTrue("alpha is dropped, as PIL's convert(\"RGB\") drops it");
        fromSet.IsEqualTo(fromFile).Should().BeTrue();
    }

    [Fact]
    public void ExifOrientation_IsAppliedByDefault_AndCanBeTurnedOff()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(Path.GetTempPath(), $"exif-{Guid.NewGuid():N}.jpg");
        try
        {
            File.WriteAllBytes(path, ExifJpeg.Rotated90(width: 12, height: 8));

            Tensor upright = ImageTensor.Load(path);
            Tensor stored = ImageTensor.Load(path, new ImagePreprocessing { Decode = new ImageDecodeOptions { ApplyExifOrientation = false } });

            stored.shape.Should().Equal([3L, 8, 12]);
            upright.shape.Should().Equal([3L, 12, 8], "orientation 6 turns the stored 12 × 8 image upright as 8 × 12");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
