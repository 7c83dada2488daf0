using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepRetrieval.Torch.Training;

/// <summary>The scalar part of a training checkpoint, stored as JSON inside the checkpoint file.</summary>
internal sealed record CheckpointState(
    int Epoch,
    long StepCount,
    int SkippedSteps,
    bool StoppedEarly,
    double BestMetric,
    int BadEpochs,
    double[] ScheduleState,
    int? SamplerSeed,
    List<EpochRecord> History)
{
    private static readonly JsonSerializerOptions Options = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static CheckpointState FromJson(string json) =>
        JsonSerializer.Deserialize<CheckpointState>(json, Options) ?? throw new InvalidDataException("The checkpoint state is null.");
}
