using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Hosting;

/// <summary>
/// Runs recovery before Kestrel takes requests (hosted services start before the server), and on a
/// clean stop — after the server has drained requests — seals every active chunk.
/// </summary>
public sealed class StorageService(LogStore store, Replication.Replicator replicator) : IHostedService
{
    // The replicator is created here, before the first write, so every chunk the writers open is replicated.
    public Task StartAsync(CancellationToken cancellationToken) => store.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await store.DisposeAsync(); // seals the active chunks: replication sends their last batches, then ends
        await replicator.DisposeAsync();
    }
}

/// <summary>Seals active chunks that have passed their category's MaxChunkAge.</summary>
public sealed class AgeSealer(LogStore store, Microsoft.Extensions.Options.IOptions<BusOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SealCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (store.IsReady)
                await store.SealAgedChunksAsync();
        }
    }
}
