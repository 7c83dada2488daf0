using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Heads;

/// <summary>
/// One entry of <see cref="HeadRegistry"/>: a head from the pooled width to the embedding width, chosen by a
/// <see cref="ComponentSpec"/> such as <c>bnneck</c>. A head that splits its training features implements <see cref="INeckHead"/>.
/// </summary>
/// <param name="Name">The name the specification starts with, e.g. <c>linear</c>.</param>
/// <param name="Parameters">Every argument the head takes, with its default value as text, in canonical order.</param>
/// <param name="CheckWidths">Throws an <see cref="ArgumentException"/> naming the problem when the head cannot map the pooled width (first) to the embedding width (second) for the (completed) specification.</param>
/// <param name="Create">Builds the head for the (completed) specification, the pooled width and the embedding width.</param>
public sealed record HeadKind(
    string Name,
    IReadOnlyList<KeyValuePair<string, string>> Parameters,
    Action<ComponentSpec, int, int> CheckWidths,
    Func<ComponentSpec, int, int, nn.Module<Tensor, Tensor>> Create)
{
    /// <summary>
    /// Elements of the head's largest parameter or buffer for the (completed) specification, the pooled width and the
    /// embedding width (a projection's D × P); null when unknown. <c>RetrievalModel.Load</c> requires a saved model to hold a
    /// head tensor at least this large before it builds the head, so a file cannot make it allocate more than it stores.
    /// </summary>
    public Func<ComponentSpec, int, int, long>? LargestTensor { get; init; }
}
