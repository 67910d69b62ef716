using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace OrleansBus.AppHost.Resources;

/// <summary>PostgreSQL run as a plain process (no container), and the connection string of its <c>orleansbus</c> database.</summary>
internal sealed class LocalPostgresResource(string name, string workingDirectory)
    : ExecutableResource(name, "bash", workingDirectory), IResourceWithConnectionString
{
    public const string Database = "orleansbus";

    public EndpointReference Endpoint => field ??= new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};Username=postgres;Database={Database}");
}

internal static class LocalPostgres
{
    /// <summary>
    /// PostgreSQL from <paramref name="binDir"/> on a port Aspire picks, its data in <paramref name="dataDir"/> (initdb on
    /// the first run). Ready once it answers a query; then, before anything that waits for it starts, the database is
    /// created if missing and the previous run's Orleans membership rows are dropped: every AppHost run starts a new
    /// cluster, and joining silos would otherwise first probe the dead silos those rows name.
    /// </summary>
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, string binDir, string dataDir)
    {
        var script = Path.Combine(builder.AppHostDirectory, "scripts", "pg-run.sh"); // the source folder: also right under the test builder
        var pg = builder.AddResource(new LocalPostgresResource(name, builder.AppHostDirectory))
            .WithArgs(script, binDir, dataDir)
            .WithEndpoint(name: "tcp", scheme: "tcp", env: "PGPORT") // the orchestrator picks the port and passes it in $PGPORT
            .WithIconName("Database")
            .ExcludeFromManifest();

        var check = $"{name}-ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(check, _ => new PostgresAnswers(pg.Resource), HealthStatus.Unhealthy, null));
        pg.WithHealthCheck(check);

        pg.OnResourceReady(async (resource, _, cancellationToken) =>
        {
            var connection = new NpgsqlConnectionStringBuilder(await resource.ConnectionStringExpression.GetValueAsync(cancellationToken))
                { Database = "postgres", Pooling = false };
            await using (var admin = new NpgsqlConnection(connection.ConnectionString))
            {
                await admin.OpenAsync(cancellationToken);
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", admin);
                exists.Parameters.AddWithValue("name", LocalPostgresResource.Database);
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                    await new NpgsqlCommand($"CREATE DATABASE {LocalPostgresResource.Database}", admin).ExecuteNonQueryAsync(cancellationToken);
            }
            connection.Database = LocalPostgresResource.Database;
            await using var bus = new NpgsqlConnection(connection.ConnectionString);
            await bus.OpenAsync(cancellationToken);
            // The silos create these tables (schema migration under an advisory lock) on their first run.
            await new NpgsqlCommand("""
                DO $$ BEGIN
                  IF to_regclass('public.orleans_membership') IS NOT NULL THEN
                    DELETE FROM public.orleans_membership;
                    DELETE FROM public.orleans_membership_version;
                  END IF;
                END $$;
                """, bus).ExecuteNonQueryAsync(cancellationToken);
        });
        return pg;
    }

    private sealed class PostgresAnswers(LocalPostgresResource pg) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var connection = new NpgsqlConnectionStringBuilder(await pg.ConnectionStringExpression.GetValueAsync(cancellationToken))
                    { Database = "postgres", Pooling = false, Timeout = 3 };
                await using var c = new NpgsqlConnection(connection.ConnectionString);
                await c.OpenAsync(cancellationToken);
                await new NpgsqlCommand("SELECT 1", c).ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        }
    }
}
