using System.CommandLine;
using System.Numerics.Tensors;
using DeepRetrieval.Bench;
using DeepRetrieval.Data;

namespace DeepRetrieval.RerankBench;

/// <summary>The benchmark's command line (System.CommandLine) and the options it yields.</summary>
internal sealed record RerankOptions
{
    public required string Method { get; init; }
    public int Queries { get; init; }
    public int Database { get; init; }
    public int Dimension { get; init; }
    public int Width { get; init; }
    public int Rounds { get; init; }
    public string? Vectors { get; init; }
    public string? QueryVectors { get; init; }

    /// <summary>The re-rankers the benchmark can time, as --method spells them.</summary>
    public static readonly string[] Methods = ["aqe", "aqe-alpha", "dba", "kreciprocal", "diffusion", "fsr"];

    private static readonly Option<string> MethodOption = new("--method") { Description = "Re-ranker to time: " + string.Join(", ", Methods), DefaultValueFactory = _ => "aqe" };
    private static readonly Option<int> QueriesOption = new("--queries") { Description = "Queries (with --query-vectors: use the first N rows)", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<int> DatabaseOption = new("--database") { Description = "Database vectors (with --vectors: use the first N rows)", DefaultValueFactory = _ => 60_000 };
    private static readonly Option<int> DimensionOption = new("--dim") { Description = "Dimension of the synthetic vectors (ignored with --vectors)", DefaultValueFactory = _ => 128 };
    private static readonly Option<int> WidthOption = new("--width") { Description = "Width of the initial and re-ranked lists", DefaultValueFactory = _ => 100 };
    private static readonly Option<int> RoundsOption = new("--rounds") { Description = "Timed rounds", DefaultValueFactory = _ => 3 };
    private static readonly Option<string?> VectorsOption = new("--vectors") { Description = "Database embeddings (float32 .npy, N × D) instead of the synthetic mixture; needs --query-vectors" };
    private static readonly Option<string?> QueryVectorsOption = new("--query-vectors") { Description = "Query embeddings (float32 .npy, N × D, same D); needs --vectors" };

    /// <summary>The root command: every option, its validation, and <paramref name="run"/> as its action.</summary>
    public static RootCommand CreateCommand(Func<RerankOptions, int> run)
    {
        var command = new RootCommand(
            "Times one re-ranker (offline part and online part separately) at a given scale, 10,000 queries × 60,000 database " +
            "vectors by default, and reports the process's peak resident memory. Exit codes: 0 success, 1 run failure, 2 bad options.")
        {
            MethodOption, QueriesOption, DatabaseOption, DimensionOption, WidthOption, RoundsOption, VectorsOption, QueryVectorsOption,
        };
        MethodOption.AcceptOnlyFromAmong(Methods);
        QueriesOption.AtLeast(1);
        DatabaseOption.AtLeast(2);
        DimensionOption.AtLeast(1);
        WidthOption.AtLeast(2);
        RoundsOption.AtLeast(1);
        command.AddCrossCheck(result =>
        {
            if ((result.GetValue(VectorsOption) is null) != (result.GetValue(QueryVectorsOption) is null))
                result.AddError("--vectors and --query-vectors go together: give both files or neither.");
        });
        command.SetAction(parse =>
        {
            return run(new RerankOptions
            {
                Method = parse.GetRequiredValue(MethodOption),
                Queries = parse.GetValue(QueriesOption),
                Database = parse.GetValue(DatabaseOption),
                Dimension = parse.GetValue(DimensionOption),
                Width = parse.GetValue(WidthOption),
                Rounds = parse.GetValue(RoundsOption),
                Vectors = parse.GetValue(VectorsOption),
                QueryVectors = parse.GetValue(QueryVectorsOption),
            });
        });
        return command;
    }

    /// <summary>The database and query vectors: the first rows of the given files, or the seeded synthetic mixture.</summary>
    public (float[] Database, float[] Queries, int Dimension) Load()
    {
        if (Vectors is not null && QueryVectors is not null)
        {
            NpyArray database = NpyReader.Read(Vectors), queries = NpyReader.Read(QueryVectors);
            if (database.Columns != queries.Columns)
                throw new InvalidDataException($"{Vectors} has {database.Columns} columns but {QueryVectors} has {queries.Columns}.");
            return (FirstRows(database, Database), FirstRows(queries, Queries), database.Columns);
        }

        // Unit vectors around 100 random centres (the re-rankers assume L2-normalised descriptors).
        var random = new Random(20);
        var centres = Normal(random, 100 * Dimension, 1f);
        float[] Sample(int count)
        {
            float[] data = Normal(random, count * Dimension, 0.6f);
            for (int r = 0; r < count; r++)
            {
                Span<float> row = data.AsSpan(r * Dimension, Dimension);
                TensorPrimitives.Add(row, centres.AsSpan(random.Next(100) * Dimension, Dimension), row);
                TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
            }

            return data;
        }

        return (Sample(Database), Sample(Queries), Dimension);
    }

    private static float[] FirstRows(NpyArray array, int rows) =>
        rows >= array.Rows ? array.Data : array.Data.AsSpan(0, rows * array.Columns).ToArray();

    private static float[] Normal(Random random, int count, float sigma)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = sigma * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return values;
    }
}
