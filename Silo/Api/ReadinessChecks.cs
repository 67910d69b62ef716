using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Cluster;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>
/// What <c>/health/ready</c> asks (ASP.NET Core health checks tagged <see cref="Tag"/>): storage recovered, this silo an
/// Active Orleans member whose membership is confirmed, the metadata database answering, the archive answering. The
/// archive is reported as degraded, never unhealthy: without it the silo still takes writes and serves every chunk with
/// a local copy, and a blob-store outage taking every silo out of rotation would turn a partial outage into a total one.
/// </summary>
public static class ReadinessChecks
{
    public const string Tag = "ready";

    /// <summary>Each dependency gets this long to answer; a probe must answer well within its own timeout.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    // Read-only lookups of things that do not exist: cheap, and harmless even if someone named a category so. The
    // database lookup takes a name no category can have; the archive checks names, so it gets valid ones.
    private const string ProbeName = "_readiness";
    private const string ArchiveProbeCategory = "orleansbus-readiness";
    private const string ArchiveProbeChunk = "readiness-chunk000000000";

    public static IServiceCollection AddReadinessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .Add(Check("storage", HealthStatus.Unhealthy, (sp, _) =>
                Task.FromResult(sp.GetRequiredService<LogStore>().IsReady ? Pass() : HealthCheckResult.Unhealthy("recovering or stopping"))))
            .Add(Check("orleans", HealthStatus.Unhealthy, (sp, _) =>
            {
                var joined = sp.GetRequiredService<Membership>().Joined;
                var confirmed = sp.GetRequiredService<SiloFence>().MayAcknowledge;
                return Task.FromResult(joined && confirmed ? Pass()
                    : HealthCheckResult.Unhealthy(joined ? "membership not confirmed within Bus:FenceWindow (fenced)" : "not an Active member of the cluster yet"));
            }))
            .Add(Check("metadata", HealthStatus.Unhealthy, async (sp, ct) =>
            {
                await sp.GetRequiredKeyedService<IMetadataStore>(CatalogStore.DatabaseKey).GetCategoryAsync(ProbeName, ct);
                return Pass();
            }))
            .Add(Check("archive", HealthStatus.Degraded, async (sp, ct) =>
            {
                await sp.GetRequiredService<IChunkArchive>().ExistsAsync(ArchiveProbeCategory, ArchiveProbeChunk, ct);
                return Pass();
            }));
        return services;
    }

    private static HealthCheckResult Pass() => HealthCheckResult.Healthy();

    private static HealthCheckRegistration Check(string name, HealthStatus failure, Func<IServiceProvider, CancellationToken, Task<HealthCheckResult>> probe) =>
        new(name, sp => new DelegateCheck(sp, probe, failure), failure, [Tag], CheckTimeout);

    private sealed class DelegateCheck(IServiceProvider services, Func<IServiceProvider, CancellationToken, Task<HealthCheckResult>> probe, HealthStatus failure) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                return await probe(services, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new HealthCheckResult(failure, e.Message);
            }
        }
    }
}
