using Microsoft.Extensions.Options;
using Npgsql;
using ClusterOptions = Orleans.Configuration.ClusterOptions;
using OrleansBus.Gateway.Hosting;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// The gateway's Orleans client: ADO.NET clustering on the silos' PostgreSQL schema, so it finds the
/// silos' Orleans gateways in Orleans' membership table. The client runs in a host of its own, connected in the
/// background and retried every second until a silo answers: the gateway serves (and answers 503 <c>no_live_silo</c>)
/// while no silo is up, instead of refusing to start. Once connected, Orleans keeps the connection to whichever silos
/// live. <see cref="Client"/> is null until then.
/// </summary>
internal sealed class ClusterConnection(IOptions<GatewayOptions> options, IConfiguration configuration, ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private readonly ILogger _logger = loggers.CreateLogger<ClusterConnection>();
    private IHost? _host;

    private readonly TaskCompletionSource<IClusterClient> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The connected client, or null before it connects.</summary>
    public IClusterClient? Client => _connected.Task.IsCompletedSuccessfully ? _connected.Task.Result : null;

    /// <summary>Completes once the client is connected (never, if the gateway stops first).</summary>
    public Task<IClusterClient> Connected => _connected.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var host = BuildHost(settings);
            try
            {
                await host.StartAsync(stoppingToken);
                _host = host;
                _connected.TrySetResult(host.Services.GetRequiredService<IClusterClient>());
                Log.ClusterConnected(_logger, failures);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (failures++ == 0)
                    Log.ClusterNotYetConnected(_logger, e.Message);
                host.Dispose();
                await Task.Delay(RetryInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                host.Dispose();
                return;
            }
        }
    }

    private IHost BuildHost(GatewayOptions settings)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(settings.PostgresConnectionString) { SearchPath = $"\"{settings.PostgresSchema}\"" }.ConnectionString;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(loggers);
        builder.Services.AddLogging();
        builder.UseOrleansClient(client =>
        {
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = configuration["Orleans:ClusterId"] ?? "orleansbus";
                o.ServiceId = configuration["Orleans:ServiceId"] ?? "orleansbus";
            });
        });
        return builder.Build();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_host is not null)
        {
            await _host.StopAsync(cancellationToken);
            _host.Dispose();
        }
    }
}
