using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepRetrieval.Torch.Training;

/// <summary>
/// The per-epoch record of a training run, saved as CSV (one row per epoch, invariant culture, round-trip precision, NaN
/// where an epoch was not validated) or JSON, and drawn as a training-curve PNG by <see cref="SavePlot"/>.
/// </summary>
public sealed class TrainingHistory
{
    private const string CsvHeader = "epoch,train_loss,learning_rate,images_per_second,skipped_steps,precision_at_1,map_at_r,r_precision,seconds";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly List<EpochRecord> _epochs = [];

    /// <summary>Creates an empty history.</summary>
    public TrainingHistory()
    {
    }

    /// <summary>Creates a history holding the given epochs.</summary>
    /// <param name="epochs">The records, in order.</param>
    public TrainingHistory(IEnumerable<EpochRecord> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        _epochs.AddRange(epochs);
    }

    /// <summary>The epochs recorded so far, in order.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>Appends an epoch.</summary>
    /// <param name="record">The epoch's record.</param>
    public void Add(EpochRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _epochs.Add(record);
    }

    /// <summary>The history as CSV text with a header row.</summary>
    public string ToCsv()
    {
        var text = new StringBuilder(CsvHeader).Append('\n');
        foreach (var e in _epochs)
        {
            text.Append(e.Epoch.ToString(CultureInfo.InvariantCulture));
            foreach (double value in new[] { e.TrainLoss, e.LearningRate, e.ImagesPerSecond })
                text.Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture));
            text.Append(',').Append(e.SkippedSteps.ToString(CultureInfo.InvariantCulture));
            foreach (double value in new[] { e.PrecisionAt1, e.MapAtR, e.RPrecision, e.Seconds })
                text.Append(',').Append(value.ToString("R", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Parses what <see cref="ToCsv"/> wrote.</summary>
    /// <param name="csv">The CSV text.</param>
    /// <exception cref="InvalidDataException">The header or a row is malformed.</exception>
    public static TrainingHistory FromCsv(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || lines[0] != CsvHeader)
            throw new InvalidDataException($"A training history CSV starts with the header '{CsvHeader}'.");
        var history = new TrainingHistory();
        for (int i = 1; i < lines.Length; i++)
        {
            string[] cells = lines[i].Split(',');
            if (cells.Length != 9)
                throw new InvalidDataException($"Row {i} of the training history has {cells.Length} cells; 9 expected.");
            try
            {
                double D(int c) => double.Parse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture);
                history.Add(new EpochRecord(int.Parse(cells[0], CultureInfo.InvariantCulture), D(1), D(2), D(3),
                    int.Parse(cells[4], CultureInfo.InvariantCulture), D(5), D(6), D(7), D(8)));
            }
            catch (FormatException ex)
            {
                throw new InvalidDataException($"Row {i} of the training history holds a value that is not a number: {lines[i]}", ex);
            }
        }
        return history;
    }

    /// <summary>The history as JSON: an array of epoch objects with snake_case names (NaN written as "NaN").</summary>
    public string ToJson() => JsonSerializer.Serialize(_epochs, JsonOptions);

    /// <summary>Parses what <see cref="ToJson"/> wrote.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="InvalidDataException">The text is not a training history.</exception>
    public static TrainingHistory FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return new TrainingHistory(JsonSerializer.Deserialize<List<EpochRecord>>(json, JsonOptions)
                ?? throw new InvalidDataException("The training history JSON is null."));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The training history JSON is malformed: {ex.Message}", ex);
        }
    }

    /// <summary>Writes <see cref="ToCsv"/> to a file atomically (through <see cref="AtomicFile"/>).</summary>
    /// <param name="path">The file to write.</param>
    public void SaveCsv(string path) => AtomicFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(ToCsv())));

    /// <summary>Writes <see cref="ToJson"/> to a file atomically (through <see cref="AtomicFile"/>).</summary>
    /// <param name="path">The file to write.</param>
    public void SaveJson(string path) => AtomicFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(ToJson())));

    /// <summary>Reads a history CSV file.</summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="InvalidDataException">The file is malformed; the message names it.</exception>
    public static TrainingHistory LoadCsv(string path) => Named(path, () => FromCsv(File.ReadAllText(path)));

    /// <summary>Reads a history JSON file.</summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="InvalidDataException">The file is malformed; the message names it.</exception>
    public static TrainingHistory LoadJson(string path) => Named(path, () => FromJson(File.ReadAllText(path)));

    /// <summary>Draws the training curves (train loss on the left axis, validation MAP@R and Precision@1 on the right) as a PNG.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <exception cref="ArgumentOutOfRangeException">The size is smaller than 200 × 150.</exception>
    public void SavePlot(string path, int width = 900, int height = 540)
    {
        AtomicFile.Write(path, stream => TrainingCurvePlot.Write(this, stream, width, height));
    }

    private static TrainingHistory Named(string path, Func<TrainingHistory> load)
    {
        try
        {
            return load();
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }
}
