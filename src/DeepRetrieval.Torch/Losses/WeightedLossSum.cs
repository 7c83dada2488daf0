using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Losses;

/// <summary>
/// A weighted sum of losses on the same batch, <c>L = Σᵢ wᵢ·Lᵢ(embeddings, labels)</c> (PML's <c>MultipleLosses</c>), e.g. a triplet
/// loss plus ArcFace. The parts are registered as sub-modules (<c>loss0</c>, <c>loss1</c>, …), so <c>parameters()</c> includes their
/// class weights and <c>.to(...)</c> moves them.
/// </summary>
public sealed class WeightedLossSum : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor, Tensor>[] _losses;
    private readonly double[] _weights;

    /// <summary>Creates the sum.</summary>
    /// <param name="terms">Each loss with its finite weight; at least one.</param>
    /// <exception cref="ArgumentException">No loss, a null loss, the same loss twice, or a weight that is not finite.</exception>
    public WeightedLossSum(params (nn.Module<Tensor, Tensor, Tensor> Loss, double Weight)[] terms) : base(nameof(WeightedLossSum))
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Length == 0) throw new ArgumentException("A weighted sum needs at least one loss.", nameof(terms));
        for (int i = 0; i < terms.Length; i++)
        {
            if (terms[i].Loss is null) throw new ArgumentException($"Loss {i} is null.", nameof(terms));
            if (!double.IsFinite(terms[i].Weight)) throw new ArgumentException($"The weight of loss {i} is {terms[i].Weight}; weights must be finite.", nameof(terms));
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(terms[i].Loss, terms[j].Loss)) throw new ArgumentException($"Losses {j} and {i} are the same object; give it once with the summed weight.", nameof(terms));
        }
        _losses = terms.Select(t => t.Loss).ToArray();
        _weights = terms.Select(t => t.Weight).ToArray();
        for (int i = 0; i < _losses.Length; i++) register_module($"loss{i}", _losses[i]);
    }

    /// <summary>The parts, in order.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor, Tensor>> Losses => _losses;

    /// <summary>The weights, in the order of <see cref="Losses"/>.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <summary>Σᵢ wᵢ·Lᵢ(embeddings, labels).</summary>
    /// <param name="embeddings">n × d embeddings.</param>
    /// <param name="labels">n labels.</param>
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        Tensor total = _losses[0].call(embeddings, labels) * _weights[0];
        for (int i = 1; i < _losses.Length; i++) total = total + _losses[i].call(embeddings, labels) * _weights[i];
        return total;
    }
}
