using System.Diagnostics;
using System.Text;
using OrleansBus.Contracts;
using OrleansBus.IntegrationTests.Groups;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Archiving;

/// <summary>
/// A silo process with 1 KiB chunks (so sealed chunks come quickly) and what was produced to it, chunk by chunk,
/// so tests can compare the archive, the cache and every read path byte for byte.
/// </summary>
internal sealed class ArchiveSilo : IAsyncDisposable
{
    public const string Category = "arch";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Dictionary<string, StringBuilder> _produced = new(StringComparer.Ordinal);
    private int _next;

    public ArchiveSilo(string dataDir, string siloId, IReadOnlyDictionary<string, string> settings)
    {
        var all = new Dictionary<string, string>(settings)
        {
            ["MaxChunkBytes"] = "1024",
            ["SealCheckInterval"] = "00:00:00.100",
        };
        Process = new SiloProcess(dataDir, siloId, all);
        Api = new GroupApi(_http, Process.BaseUrl, Process.LogPath);
    }

    public SiloProcess Process { get; }
    public GroupApi Api { get; }
    public string DataDir => Process.DataDir;

    public string Expected(string chunk) => _produced[chunk].ToString();

    public string LocalFile(string chunk) => Path.Combine(DataDir, "categories", Category, chunk);

    public string CacheFile(string chunk) => Path.Combine(DataDir, "cache", Category, chunk);

    /// <summary>Produces <paramref name="batches"/> batches of five 60-byte messages, one after another.</summary>
    public async Task ProduceAsync(int batches)
    {
        for (var b = 0; b < batches; b++)
        {
            var body = new StringBuilder();
            for (var m = 0; m < 5; m++)
                body.Append($"message-{_next++:D6}-").Append('x', 44).Append('\n');
            var result = await Api.ProduceAsync(Category, body.ToString());
            if (!_produced.TryGetValue(result.Chunk, out var text))
                _produced[result.Chunk] = text = new StringBuilder();
            Assert.Equal(text.Length, result.Offset);
            text.Append(body);
        }
    }

    /// <summary>Polls the listing until <paramref name="done"/> holds; fails with the last listing and the silo log.</summary>
    public async Task<ChunkInfo[]> WaitForChunksAsync(Func<ChunkInfo[], bool> done, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        ChunkInfo[] chunks = [];
        while (clock.Elapsed < timeout)
        {
            chunks = await Api.ChunksAsync(Category);
            if (done(chunks))
                return chunks;
            await Task.Delay(100);
        }
        var listing = string.Join(", ", chunks.Select(c => $"{c.Name}={c.State}"));
        throw new Xunit.Sdk.XunitException($"{what} did not happen within {timeout.TotalSeconds:0} s. Chunks: {listing}. Silo log {Process.LogPath}:\n{Process.LogTail()}");
    }

    /// <summary>Every chunk but the newest (still taking appends) is in <paramref name="state"/>.</summary>
    public static bool AllButNewest(ChunkInfo[] chunks, string state, int atLeast) =>
        chunks.Length > atLeast && chunks.Take(chunks.Length - 1).All(c => c.State == state);

    /// <summary>Drains the group from the earliest data, acknowledging each delivery; returns the bytes per chunk.</summary>
    public async Task<Dictionary<string, string>> PollAllAsync(string group)
    {
        var seen = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
        for (var i = 0; i < 500; i++)
        {
            var polled = await Api.PollAsync(Category, group, new PollQuery(MaxBytes: 1 << 20, Start: "earliest"));
            if (polled is null)
                return seen.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
            if (!seen.TryGetValue(polled.Chunk, out var text))
                seen[polled.Chunk] = text = new StringBuilder();
            Assert.Equal(text.Length, polled.Offset);
            foreach (var message in polled.Messages)
                text.Append(message).Append('\n');
            var settled = await Api.AckAsync(Category, group, polled.Token);
            Assert.True(settled.Status == System.Net.HttpStatusCode.OK || settled.Status == System.Net.HttpStatusCode.NoContent, $"ack answered {settled.Status}: {settled.Body}");
        }
        throw new Xunit.Sdk.XunitException("The group was not drained within 500 polls.");
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _http.Dispose();
    }
}
