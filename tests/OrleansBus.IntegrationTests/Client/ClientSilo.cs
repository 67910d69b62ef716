using System.Text;
using OrleansBus.Client;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Client;

/// <summary>
/// One silo process (SQLite, own data directory) per test class, with a small MaxMessageBytes so size errors are
/// cheap to provoke. Tests of a class share it and use their own category names.
/// </summary>
public sealed class ClientSilo : IAsyncLifetime
{
    /// <summary>The silo's MaxMessageBytes (newline included).</summary>
    public const int MaxMessageBytes = 64 * 1024;

    private readonly TempDirectory _dir = new("client");

    public SiloProcess Process { get; private set; } = null!;

    public Uri Endpoint => new(Process.BaseUrl);

    public async Task InitializeAsync()
    {
        Process = new SiloProcess(_dir.Combine("data"), "c1", new Dictionary<string, string>
        {
            ["MaxMessageBytes"] = MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await Process.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        _dir.Dispose();
    }

    public BusClient NewClient(Action<BusClientOptions>? configure = null) => NewClient(configure, Endpoint);

    public static BusClient NewClient(Action<BusClientOptions>? configure, params Uri[] endpoints)
    {
        var options = new BusClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) };
        foreach (var endpoint in endpoints)
            options.Endpoints.Add(endpoint);
        configure?.Invoke(options);
        return new BusClient(options);
    }
}

/// <summary>Reads a whole category back through the raw read API, chunk by chunk in catalog order.</summary>
internal static class ReadBack
{
    public static async Task<List<string>> AllMessagesAsync(BusClient client, string category)
    {
        var messages = new List<string>();
        foreach (var chunk in await client.ListChunksAsync(category))
        {
            long offset = 0;
            while (offset < chunk.Size)
            {
                var read = await client.ReadChunkAsync(category, chunk.Name, offset, 1024 * 1024);
                var text = Encoding.UTF8.GetString(read.Data.Span);
                messages.AddRange(text.Split('\n')[..^1]);
                Assert.True(read.NextOffset > offset, $"A read of {chunk.Name} at {offset} did not advance.");
                offset = read.NextOffset;
            }
        }
        return messages;
    }
}
