using DeepRetrieval.Torch.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Tests.Augmentation;

public class BatchTransformTests
{
    private static Tensor Ramp(long n, long c, long h, long w) =>
        arange(n * c * h * w, ScalarType.Float32).view(n, c, h, w);

    [Fact]
    public void RandomHorizontalFlip_FlipsEachSampleIndependently_WithProbabilityP()
    {
        using var scope = NewDisposeScope();
        Tensor images = Ramp(200, 2, 3, 4);
        Tensor flipped = images.flip(3);
        new RandomHorizontalFlip(1).Apply(images, new Generator(1)).IsEqualTo(flipped).Should().BeTrue();
        new RandomHorizontalFlip(0).Apply(images, new Generator(1)).IsEqualTo(images).Should().BeTrue();

        Tensor output = new RandomHorizontalFlip(0.5).Apply(images, new Generator(1));
        Tensor isFlipped = (output == flipped).flatten(1).all(1);
        Tensor isOriginal = (output == images).flatten(1).all(1);
        isFlipped.logical_xor(isOriginal).all().item<bool>().Should().BeTrue("every sample is either flipped or untouched");
        isFlipped.sum().item<long>().Should().BeInRange(70, 130, "about half of 200 samples flip");
    }

    [Fact]
    public void RandomResizedCrop_WithFullScaleAndSquareRatio_ReturnsTheImagesUnchanged()
    {
        using var scope = NewDisposeScope();
        Tensor images = Ramp(3, 2, 8, 8);
        Tensor output = new RandomResizedCrop(8, 8, 1, 1, 1, 1).Apply(images, new Generator(2));
        output.allclose(images, rtol: 0, atol: 1e-4).Should().BeTrue();
    }

    [Fact]
    public void RandomResizedCrop_CropOfAKnownBoxAtItsOwnSize_CopiesThatSubImage()
    {
        using var scope = NewDisposeScope();
        Tensor images = Ramp(2, 1, 6, 7);
        var boxes = new BoxBatch(tensor(new long[] { 1, 3 }), tensor(new long[] { 2, 0 }), tensor(new long[] { 2, 2 }), tensor(new long[] { 3, 3 }), ones(2, ScalarType.Bool));
        Tensor crops = RandomResizedCrop.Crop(images, boxes, 2, 3);
        // Sample 0: rows 1–2, columns 2–4; sample 1: rows 3–4, columns 0–2 (values are 42 + 7·row + column).
        crops.data<float>().ToArray().Should().Equal([9, 10, 11, 16, 17, 18, 63, 64, 65, 70, 71, 72], (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Fact]
    public void RandomResizedCrop_Boxes_RespectScaleAndRatio_AndStayInsideTheImage()
    {
        using var scope = NewDisposeScope();
        var crop = new RandomResizedCrop(16, 16, 0.25, 0.5, 0.5, 2);
        BoxBatch boxes = crop.SampleBoxes(400, 40, 60, new Generator(3));
        Tensor h = boxes.Height.to(ScalarType.Float64), w = boxes.Width.to(ScalarType.Float64);
        ((boxes.Top >= 0).logical_and(boxes.Top + boxes.Height <= 40).all().item<bool>()).Should().BeTrue();
        ((boxes.Left >= 0).logical_and(boxes.Left + boxes.Width <= 60).all().item<bool>()).Should().BeTrue();
        // Rounding each side moves the area fraction and ratio by at most about one pixel's worth.
        Tensor fraction = h * w / 2400;
        fraction.min().item<double>().Should().BeGreaterThan(0.25 - 0.03);
        fraction.max().item<double>().Should().BeLessThan(0.5 + 0.03);
        Tensor ratio = w / h;
        ratio.min().item<double>().Should().BeGreaterThan(0.5 * 0.9);
        ratio.max().item<double>().Should().BeLessThan(2 * 1.1);
        boxes.Top.unique().Item1.numel().Should().BeGreaterThan(5, "positions are random per sample");

        Tensor output = crop.Apply(rand(4, 3, 40, 60), new Generator(3));
        output.shape.Should().Equal(4, 3, 16, 16);
    }

    [Fact]
    public void RandomResizedCrop_FallsBackToTheCentralCropClampedToTheRatio_WhenNoAttemptFits()
    {
        using var scope = NewDisposeScope();
        // On 8 × 8 a full-area box with w/h ≥ 2 never fits, so torchvision's fallback applies: w = 8, h = round(8 / 2) = 4,
        // centred: top (8 − 4) / 2 = 2, left 0.
        BoxBatch boxes = new RandomResizedCrop(4, 8, 1, 1, 2, 3).SampleBoxes(5, 8, 8, new Generator(4));
        boxes.Top.data<long>().ToArray().Should().AllBeEquivalentTo(2);
        boxes.Left.data<long>().ToArray().Should().AllBeEquivalentTo(0);
        boxes.Height.data<long>().ToArray().Should().AllBeEquivalentTo(4);
        boxes.Width.data<long>().ToArray().Should().AllBeEquivalentTo(8);
    }

    [Fact]
    public void GaussianNoise_HasTheRequestedMeanAndStandardDeviation()
    {
        using var scope = NewDisposeScope();
        Tensor images = full([8, 3, 64, 64], 2.0f);
        Tensor noise = new GaussianNoise(0.5).Apply(images, new Generator(5)) - 2;
        noise.mean().item<float>().Should().BeApproximately(0, 0.01f);
        noise.std().item<float>().Should().BeApproximately(0.5f, 0.01f);

        new GaussianNoise(0.5, p: 0).Apply(images, new Generator(5)).IsEqualTo(images).Should().BeTrue();
        Tensor partial = new GaussianNoise(0.5, p: 0.5).Apply(full([40, 1, 4, 4], 2.0f), new Generator(5));
        long untouched = (partial == 2).flatten(1).all(1).sum().item<long>();
        untouched.Should().BeInRange(8, 32, "about half of 40 samples get no noise");
    }

    [Fact]
    public void SaltAndPepper_CorruptsTheRequestedFraction_WithTheRequestedSaltShare()
    {
        using var scope = NewDisposeScope();
        Tensor images = full([4, 3, 64, 64], 0.5f);
        Tensor output = new SaltAndPepper(amount: 0.2, saltRatio: 0.25).Apply(images, new Generator(6));
        Tensor salt = output == 1, pepper = output == 0;
        (salt.logical_or(pepper).logical_or(output == 0.5f)).all().item<bool>().Should().BeTrue();
        // A corrupted pixel is corrupted in all channels alike.
        salt.all(1).IsEqualTo(salt.any(1)).Should().BeTrue();
        pepper.all(1).IsEqualTo(pepper.any(1)).Should().BeTrue();
        double corrupted = salt.logical_or(pepper).to(ScalarType.Float64).mean().item<double>();
        corrupted.Should().BeApproximately(0.2, 0.01);
        double saltShare = salt.sum().item<long>() / (double)salt.logical_or(pepper).sum().item<long>();
        saltShare.Should().BeApproximately(0.25, 0.02);
    }

    [Fact]
    public void MotionBlur_HorizontalFullLengthKernel_IsABoxFilterAlongRows()
    {
        using var scope = NewDisposeScope();
        Tensor images = tensor(new float[] { 3, 6, 0, 9, 1, 2, 4, 8 }, [1, 1, 2, 4]);
        Tensor output = new MotionBlur(3, minLength: 2, maxLength: 2, minAngle: 0, maxAngle: 0, p: 1).Apply(images, new Generator(7));
        // Replicated borders: row 0 = (3+3+6)/3, (3+6+0)/3, (6+0+9)/3, (0+9+9)/3; row 1 likewise from 1 2 4 8.
        float[] expected = [4, 3, 5, 6, 4f / 3, 7f / 3, 14f / 3, 20f / 3];
        output.data<float>().ToArray().Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void MotionBlur_Kernels_AreNormalisedLines_AndTheIdentityAtZeroLength()
    {
        using var scope = NewDisposeScope();
        Tensor kernels = MotionBlur.LineKernels(tensor(new double[] { 90, 0 }), tensor(new double[] { 2, 0 }), 3);
        kernels[0].data<double>().ToArray().Should().Equal([0, 1.0 / 3, 0, 0, 1.0 / 3, 0, 0, 1.0 / 3, 0], (a, b) => Math.Abs(a - b) < 1e-12);
        kernels[1].data<double>().ToArray().Should().Equal([0, 0, 0, 0, 1, 0, 0, 0, 0]);

        Tensor images = rand(3, 2, 5, 5, generator: new Generator(8));
        new MotionBlur(5, p: 0).Apply(images, new Generator(8)).IsEqualTo(images).Should().BeTrue();
        Tensor blurred = new MotionBlur(5, minLength: 3, p: 1).Apply(images, new Generator(8));
        blurred.sum([2, 3]).allclose(images.sum([2, 3]), atol: 3).Should().BeTrue("a normalised kernel roughly keeps the brightness");
        blurred.IsEqualTo(images).Should().BeFalse();
    }

    [Fact]
    public void RandomErasing_ErasesOneRectangle_WithinTheAreaAndRatioBounds()
    {
        using var scope = NewDisposeScope();
        Tensor images = ones(300, 2, 32, 32);
        var erasing = new RandomErasing(p: 1);
        Tensor output = erasing.Erase(images, new Generator(9), out Tensor mask);
        Tensor erasedRows = mask.any(3).squeeze(1).sum(1).to(ScalarType.Float64);    // h per sample
        Tensor erasedColumns = mask.any(2).squeeze(1).sum(1).to(ScalarType.Float64); // w per sample
        Tensor area = mask.sum([1, 2, 3]).to(ScalarType.Float64);
        area.IsEqualTo(erasedRows * erasedColumns).Should().BeTrue("the erased pixels form one rectangle");
        (output == 0).IsEqualTo(mask.expand_as(output)).Should().BeTrue("exactly the box is zeroed, in every channel");
        Tensor fraction = area / 1024;
        fraction.min().item<double>().Should().BeGreaterThan(0.02 * 0.6);
        fraction.max().item<double>().Should().BeLessThan(0.33 * 1.15);
        Tensor ratio = erasedRows / erasedColumns;
        ratio.min().item<double>().Should().BeGreaterThan(0.3 * 0.7);
        ratio.max().item<double>().Should().BeLessThan(3.3 / 0.7);

        new RandomErasing(p: 0).Apply(images, new Generator(9)).IsEqualTo(images).Should().BeTrue();
        long erased = (new RandomErasing(p: 0.5).Apply(images, new Generator(9)) == 0).flatten(1).any(1).sum().item<long>();
        erased.Should().BeInRange(110, 190);
    }

    [Fact]
    public void RandomErasing_FillsWithTheChannelMean_OrWithRandomValues()
    {
        using var scope = NewDisposeScope();
        Tensor images = rand(6, 3, 16, 16, generator: new Generator(10));
        Tensor output = new RandomErasing(p: 1, value: ErasingValue.Mean).Erase(images, new Generator(11), out Tensor mask);
        Tensor expected = where(mask, images.mean([2, 3], keepdim: true), images);
        output.allclose(expected).Should().BeTrue();

        Tensor random = new RandomErasing(p: 1, value: ErasingValue.Random).Erase(images, new Generator(11), out Tensor sameMask);
        sameMask.IsEqualTo(mask).Should().BeTrue("the value choice does not change the boxes");
        random.masked_select(mask.expand_as(images)).std().item<float>().Should().BeGreaterThan(0.5f, "standard-normal fill");
        random.masked_select(mask.logical_not().expand_as(images)).IsEqualTo(images.masked_select(mask.logical_not().expand_as(images))).Should().BeTrue();
    }

    [Fact]
    public void Compose_SameSeedGivesIdenticalOutput_DifferentSeedDiffers_AndARestoredStateReplays()
    {
        using var scope = NewDisposeScope();
        var pipeline = new Compose(
            new RandomResizedCrop(12, 12), new RandomHorizontalFlip(), new MotionBlur(5), new GaussianNoise(0.1),
            new SaltAndPepper(0.02), new RandomErasing(value: ErasingValue.Random));
        Tensor images = rand(4, 3, 20, 20, generator: new Generator(12));
        Tensor first = pipeline.Apply(images, new Generator(13));
        pipeline.Apply(images, new Generator(13)).IsEqualTo(first).Should().BeTrue();
        pipeline.Apply(images, new Generator(14)).IsEqualTo(first).Should().BeFalse();

        var generator = new Generator(15);
        pipeline.Apply(images, generator);
        Tensor state = generator.get_state();
        Tensor next = pipeline.Apply(images, generator);
        generator.set_state(state);
        pipeline.Apply(images, generator).IsEqualTo(next).Should().BeTrue("restoring the generator state replays the stream");
    }

    [Fact]
    public void TorchVisionTransform_AppliesTheWrappedTransformToEachSample_WithProbabilityP()
    {
        using var scope = NewDisposeScope();
        Tensor images = Ramp(2, 1, 2, 3);
        new TorchVisionTransform(torchvision.transforms.HorizontalFlip(), 1).Apply(images, new Generator(16)).IsEqualTo(images.flip(3)).Should().BeTrue();
        new TorchVisionTransform(torchvision.transforms.HorizontalFlip(), 0).Apply(images, new Generator(16)).IsEqualTo(images).Should().BeTrue();
        // One coin per sample: over 100 batches of 2, about half the samples flip, and some batches flip one sample only.
        var half = new TorchVisionTransform(torchvision.transforms.HorizontalFlip(), 0.5);
        var generator = new Generator(17);
        int flips = 0, mixed = 0;
        for (int i = 0; i < 100; i++)
        {
            Tensor output = half.Apply(images, generator);
            bool first = output[0].IsEqualTo(images[0].flip(2)), second = output[1].IsEqualTo(images[1].flip(2));
            flips += (first ? 1 : 0) + (second ? 1 : 0);
            mixed += first != second ? 1 : 0;
        }
        flips.Should().BeInRange(70, 130);
        mixed.Should().BeInRange(30, 70);
    }

    [Fact]
    public void TorchVisionTransform_DrawsEachSamplesParameters_FromTheGivenGenerator()
    {
        using var scope = NewDisposeScope();
        // Two identical images: a batch-wide draw would jitter them alike; per-sample draws make them differ.
        Tensor image = rand(1, 3, 8, 8, generator: new Generator(21)) * 0.5 + 0.1; // at most 0.6, so 1.5 × stays below the clamp at 1
        Tensor images = cat([image, image, image, image], 0);
        var jitter = new TorchVisionTransform(torchvision.transforms.ColorJitter(brightness: 0.5f));
        Tensor first = jitter.Apply(images, new Generator(22));
        for (int i = 1; i < 4; i++)
            first[i].IsEqualTo(first[0]).Should().BeFalse($"sample {i} gets its own brightness");
        // A brightness jitter scales each image by one factor in [0.5, 1.5].
        Tensor factors = first.flatten(1) / images.flatten(1);
        (factors.max(1).values - factors.min(1).values).abs().max().item<float>().Should().BeLessThan(1e-5f);
        factors.min().item<float>().Should().BeGreaterThanOrEqualTo(0.5f);
        factors.max().item<float>().Should().BeLessThanOrEqualTo(1.5f);

        // The same seed gives the same draws, whatever torch's global generator did in between.
        manual_seed(123);
        jitter.Apply(images, new Generator(22)).IsEqualTo(first).Should().BeTrue("the same generator seed reproduces every sample");
        jitter.Apply(images, new Generator(23)).IsEqualTo(first).Should().BeFalse("another seed draws other parameters");
        // The global generator is left where it was.
        manual_seed(5);
        Tensor expected = rand(3);
        manual_seed(5);
        jitter.Apply(images, new Generator(24));
        rand(3).IsEqualTo(expected).Should().BeTrue("the call restores torch's global generator");
    }

    [Fact]
    public void TorchVisionTransform_RejectsATransformThatChangesTheShape()
    {
        using var scope = NewDisposeScope();
        var crop = new TorchVisionTransform(torchvision.transforms.CenterCrop(2));
        crop.Invoking(t => t.Apply(rand(2, 1, 4, 4), new Generator(25))).Should().Throw<InvalidOperationException>().WithMessage("*keep the shape*");
    }

    [Fact]
    public void TorchVisionTransform_RunsAColourTransformOnABatch()
    {
        using var scope = NewDisposeScope();
        Tensor images = rand(2, 3, 8, 8, generator: new Generator(19));
        Tensor grey = new TorchVisionTransform(torchvision.transforms.Grayscale(3)).Apply(images, new Generator(20));
        grey.shape.Should().Equal(2, 3, 8, 8);
        grey[.., 0].allclose(grey[.., 1]).Should().BeTrue("grey images have equal channels");
    }

    [Fact]
    public void Transforms_RejectBadImagesAndParameters()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(18);
        var flip = new RandomHorizontalFlip();
        flip.Invoking(f => f.Apply(zeros(3, 4, 4), generator)).Should().Throw<ArgumentException>().WithMessage("*4-D*");
        flip.Invoking(f => f.Apply(zeros([1, 3, 4, 4], ScalarType.Int32), generator)).Should().Throw<ArgumentException>().WithMessage("*floating*");
        FluentActions.Invoking(() => new RandomHorizontalFlip(1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new GaussianNoise(double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new MotionBlur(4)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*odd*");
        FluentActions.Invoking(() => new MotionBlur(3, maxLength: 5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new RandomErasing(scaleMin: 0.5, scaleMax: 0.1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new RandomResizedCrop(0, 4)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new SaltAndPepper(amount: -0.1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
