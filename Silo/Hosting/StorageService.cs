using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Hosting;

/// <summary>Before Orleans starts: the data directory's lock and the schema (Orleans' clustering tables included).</summary>
public sealed class StoragePreparation(LogStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.PrepareAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Runs recovery once this silo has joined the cluster (so a chunk it re-publishes at start belongs to a live member)
/// and before Kestrel takes requests (the server starts last). On a clean stop — after the server has drained requests,
/// while this silo is still a member — seals every active chunk, lets replication send the last batches, and closes the
/// store: the owner seals its own chunks, peers only seal for an owner Orleans declared dead.
/// </summary>
public sealed class StorageService(LogStore store, Replication.Replicator replicator) : IHostedService
{
    // The replicator is created here, before the first write, so every chunk the writers open is replicated.
    public Task StartAsync(CancellationToken cancellationToken) => store.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await store.CloseWritersAsync(); // seals the active chunks: replication sends their last batches, then ends
        await replicator.DisposeAsync(); // every loop done before the metadata store it uses is disposed
        await store.DisposeAsync();
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
