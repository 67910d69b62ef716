using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansBus.AppHost.Resources;

/// <summary>Azurite's blob service run as a plain process (no container), and its connection string.</summary>
internal sealed class LocalAzuriteResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string AccountName = "devstoreaccount1";

    // Azurite's published, well-known development account key (in its README): not a secret.
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public EndpointReference Endpoint => field ??= new(this, "blob");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Endpoint.Property(EndpointProperty.Port)}/{AccountName};");
}

internal static class LocalAzurite
{
    /// <summary>Azurite (<paramref name="executable"/>) keeping its blobs in <paramref name="dataDir"/>; ready once it answers HTTP.</summary>
    public static IResourceBuilder<LocalAzuriteResource> AddLocalAzurite(
        this IDistributedApplicationBuilder builder, string name, string executable, string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var azurite = builder.AddResource(new LocalAzuriteResource(name, executable, dataDir))
            .WithEndpoint(name: "blob", scheme: "http")
            .WithIconName("Storage")
            .ExcludeFromManifest();
        azurite.WithArgs(context =>
        {
            context.Args.Add("--blobHost");
            context.Args.Add("127.0.0.1");
            context.Args.Add("--blobPort");
            context.Args.Add(azurite.Resource.Endpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--location");
            context.Args.Add(dataDir);
            // Newer clients send x-ms-version values 3.35.0 would otherwise reject.
            context.Args.Add("--skipApiVersionCheck");
            context.Args.Add("--disableTelemetry");
            context.Args.Add("--silent");
        });
        var check = $"{name}-ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(check, _ => new AnswersHttp(azurite.Resource.Endpoint), HealthStatus.Unhealthy, null));
        return azurite.WithHealthCheck(check);
    }

    private sealed class AnswersHttp(EndpointReference endpoint) : IHealthCheck
    {
        private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

        // Any HTTP answer (a 403 for an unsigned request included) means Azurite is serving.
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var response = await Http.GetAsync(new Uri($"{endpoint.Url}/{LocalAzuriteResource.AccountName}?comp=list"), cancellationToken);
                return HealthCheckResult.Healthy($"HTTP {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        }
    }
}
