using System.Reflection;

namespace DeepRetrieval.Orleans.Sql;

/// <summary>
/// The PostgreSQL tables and queries that Orleans' ADO.NET clustering and grain storage providers need (the Orleans packages
/// do not ship them): <c>OrleansQuery</c>, the membership tables and <c>OrleansStorage</c>. The script is idempotent: run it
/// once per database, before the first silo starts (for example with Npgsql's <c>NpgsqlCommand</c>, or <c>psql -f</c> on the
/// file written by <see cref="WriteTo"/>).
/// </summary>
public static class OrleansPostgreSqlSchema
{
    private const string ResourceName = "DeepRetrieval.Orleans.Sql.orleans-postgresql.sql";

    /// <summary>The ADO.NET invariant name of Npgsql, for <c>UseAdoNetClustering</c> and <c>AddAdoNetGrainStorage</c>.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>The SQL script.</summary>
    public static string Script { get; } = ReadScript();

    /// <summary>Writes the script to a file (for <c>psql -f</c>).</summary>
    /// <param name="path">The file to write.</param>
    public static void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllText(path, Script);
    }

    private static string ReadScript()
    {
        using Stream stream = typeof(OrleansPostgreSqlSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(OrleansPostgreSqlSchema).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
