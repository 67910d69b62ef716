using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// An Orleans client of a <see cref="TestCluster"/>, in this test process: ADO.NET clustering on the cluster's
/// PostgreSQL schema, the cluster id the silos use — what any .NET service with the Contracts assembly can do.
/// </summary>
internal sealed class ClusterClient : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterClient(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterClient> ConnectAsync(TestCluster cluster)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { SearchPath = $"\"{TestCluster.Schema}\"" }.ConnectionString;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = "orleansbus";
                o.ServiceId = "orleansbus";
            });
        });
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await host.StartAsync(timeout.Token);
        return new ClusterClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
