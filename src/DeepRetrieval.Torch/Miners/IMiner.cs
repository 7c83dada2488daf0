using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Miners;

/// <summary>Picks informative pairs or triplets from a batch (PML's miners). Mining never builds autograd graph.</summary>
public interface IMiner
{
    /// <summary>Mines tuples whose anchors come from <paramref name="embeddings"/> and whose positives and negatives come from the reference set.</summary>
    /// <param name="embeddings">n × d batch embeddings.</param>
    /// <param name="labels">n int64 labels.</param>
    /// <param name="referenceEmbeddings">m × d reference embeddings; null uses the batch (then an element is never paired with itself).</param>
    /// <param name="referenceLabels">m labels; required with <paramref name="referenceEmbeddings"/>.</param>
    IndexTuples Mine(Tensor embeddings, Tensor labels, Tensor? referenceEmbeddings = null, Tensor? referenceLabels = null);
}
