using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Tests.Storage;

/// <summary>A real LogStore on a real SQLite catalog in a temporary directory.</summary>
internal sealed class StorageHarness : IAsyncDisposable
{
    private StorageHarness(string dataDir, LogStore store, ManualTime time)
    {
        DataDir = dataDir;
        Store = store;
        Time = time;
    }

    public string DataDir { get; }
    public LogStore Store { get; private set; }
    public ManualTime Time { get; }

    public static async Task<StorageHarness> StartAsync(string? dataDir = null, Action<BusOptions>? configure = null, ManualTime? time = null)
    {
        dataDir ??= Path.Combine(Path.GetTempPath(), "obus-tests", "storage-" + Guid.NewGuid().ToString("N"));
        time ??= new ManualTime(DateTimeOffset.UtcNow);
        var store = Create(dataDir, configure, time);
        await store.StartAsync(CancellationToken.None);
        return new StorageHarness(dataDir, store, time);
    }

    public static LogStore Create(string dataDir, Action<BusOptions>? configure, TimeProvider time)
    {
        var options = new BusOptions { DataDir = dataDir };
        configure?.Invoke(options);
        Directory.CreateDirectory(dataDir);
        var metadata = new SqliteMetadataStore(Path.Combine(dataDir, "metadata.db"));
        return new LogStore(Options.Create(options), metadata, time, NullLogger<LogStore>.Instance);
    }

    /// <summary>Clean stop (seals active chunks) and a fresh start on the same directory.</summary>
    public async Task RestartAsync(Action<BusOptions>? configure = null)
    {
        await Store.DisposeAsync();
        Store = Create(DataDir, configure, Time);
        await Store.StartAsync(CancellationToken.None);
    }

    public async Task<AppendResult> AppendAsync(string category, byte[] batch, bool fsync = false)
    {
        var log = await Store.GetOrCreateAsync(category, CancellationToken.None);
        var messages = batch.AsSpan().Count((byte)'\n');
        return await log.Writer.AppendAsync(new AppendRequest(batch, messages, Crc32C.Compute(batch), fsync));
    }

    /// <summary>Waits (bounded) until every chunk but the active one is sealed: sealing runs off the writer loop.</summary>
    public async Task WaitForSealedAsync(string category, int expectedSealed)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var log = Store.Find(category)!;
        while (true)
        {
            var sealedCount = log.Chunks.Count(c => c.State == ChunkStates.Sealed);
            if (sealedCount >= expectedSealed)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Only {sealedCount} of {expectedSealed} chunks of {category} were sealed within 10 s.");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Time that moves only when a test says so (no timers needed by the code under test here).</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

internal static class Batches
{
    /// <summary>A batch of <paramref name="count"/> messages "prefix-i\n" padded to <paramref name="messageBytes"/>.</summary>
    public static byte[] Make(string prefix, int count, int messageBytes = 20)
    {
        var batch = new byte[count * messageBytes];
        for (var i = 0; i < count; i++)
        {
            var text = System.Text.Encoding.ASCII.GetBytes($"{prefix}-{i}");
            var message = batch.AsSpan(i * messageBytes, messageBytes);
            message.Fill((byte)'.');
            text.AsSpan(0, Math.Min(text.Length, messageBytes - 1)).CopyTo(message);
            message[^1] = (byte)'\n';
        }
        return batch;
    }
}
