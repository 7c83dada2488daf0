namespace DeepRetrieval.Reranking;

/// <summary>Runs re-rankers one after another, each on the state the previous one returned.</summary>
public sealed class RerankingPipeline : IReranker
{
    /// <summary>Creates a chain.</summary>
    /// <param name="stages">The re-rankers in the order they run; at least one.</param>
    /// <exception cref="ArgumentException">No stage, or a null stage.</exception>
    public RerankingPipeline(params IReadOnlyList<IReranker> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Count == 0)
            throw new ArgumentException("A pipeline needs at least one re-ranker.", nameof(stages));
        for (int i = 0; i < stages.Count; i++)
        {
            if (stages[i] is null)
                throw new ArgumentException($"stages[{i}] is null.", nameof(stages));
        }

        Stages = stages.ToArray();
    }

    /// <summary>The re-rankers in the order they run.</summary>
    public IReadOnlyList<IReranker> Stages { get; }

    /// <inheritdoc />
    public string Name => string.Join(" → ", Stages.Select(s => s.Name));

    /// <inheritdoc />
    public RerankingState Rerank(RerankingState state, IProgress<RerankingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (IReranker stage in Stages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            state = stage.Rerank(state, progress, cancellationToken);
        }

        return state;
    }
}
