namespace DeepRetrieval.OnnxBench;

/// <summary>One side of the comparison: a name and a round that embeds the round's images and returns the seconds it took.</summary>
internal sealed class Contender(string name, Func<double> round)
{
    public string Name { get; } = name;

    public List<double> ImagesPerSecond { get; } = [];

    public void RunRound(int images) => ImagesPerSecond.Add(images / round());
}
