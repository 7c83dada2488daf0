using DeepRetrieval.Orleans.Sql;
using Npgsql;

namespace DeepRetrieval.Orleans.Tests;

/// <summary>
/// The PostgreSQL server the cluster tests use: <c>DEEPRETRIEVAL_POSTGRES</c>, or the role and database .ci/run creates on
/// localhost. Reaching it applies the Orleans schema. Tests skip, saying why, when it cannot be reached, except under CI
/// (<c>CI=true</c>), where .ci/run must have started it and an unreachable server fails the test.
/// </summary>
internal static class PostgresServer
{
    public const string DefaultConnectionString = "Host=localhost;Port=5432;Username=deepretrieval;Password=deepretrieval;Database=deepretrieval_orleans;Timeout=5";

    private static readonly Lazy<string?> Problem = new(Connect);

    public static string ConnectionString => Environment.GetEnvironmentVariable("DEEPRETRIEVAL_POSTGRES") is { Length: > 0 } s ? s : DefaultConnectionString;

    public static void SkipUnlessReachable()
    {
        if (Problem.Value is not { } problem) return;
        string message = $"No PostgreSQL is reachable at '{ConnectionString}' ({problem}). Install and start PostgreSQL and create the role and database as .ci/run does, or set DEEPRETRIEVAL_POSTGRES to a connection string.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Under CI this test must run: {message}");
        Skip.If(true, message);
    }

    private static string? Connect()
    {
        try
        {
            using var connection = new NpgsqlConnection(ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand(OrleansPostgreSqlSchema.Script, connection);
            command.ExecuteNonQuery();
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return e.Message;
        }
    }
}
