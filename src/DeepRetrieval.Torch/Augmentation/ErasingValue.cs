namespace DeepRetrieval.Torch.Augmentation;

/// <summary>What <see cref="RandomErasing"/> writes into the erased box (the variants of Zhong et al. 2020).</summary>
public enum ErasingValue
{
    /// <summary>Zeros (RE-0; torchvision's default <c>value=0</c>). On mean/std-normalised images this is the dataset mean.</summary>
    Zero,

    /// <summary>Independent standard-normal values per pixel and channel (RE-R; torchvision <c>value='random'</c>).</summary>
    Random,

    /// <summary>Each channel's mean over that sample's image (a per-image stand-in for RE-M's dataset mean pixel).</summary>
    Mean,
}
