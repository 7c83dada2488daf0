namespace DeepRetrieval.Torch.Backbones;

/// <summary>The channel rounding shared by timm and torchvision (<c>make_divisible</c>).</summary>
internal static class ChannelRounding
{
    /// <summary>
    /// timm's <c>make_divisible(v, divisor, min_value, round_limit)</c> (torchvision's <c>_make_divisible</c> is the defaults):
    /// rounds <paramref name="value"/> to the nearest multiple of <paramref name="divisor"/>, at least <paramref name="minimum"/>
    /// (one divisor when null), adding one divisor when rounding lost more than 1 − <paramref name="roundLimit"/> of the value.
    /// </summary>
    public static int MakeDivisible(double value, int divisor = 8, int? minimum = null, double roundLimit = 0.9)
    {
        int min = minimum ?? divisor;
        int rounded = Math.Max(min, (int)(value + divisor / 2.0) / divisor * divisor);
        if (rounded < roundLimit * value)
            rounded += divisor;
        return rounded;
    }
}
