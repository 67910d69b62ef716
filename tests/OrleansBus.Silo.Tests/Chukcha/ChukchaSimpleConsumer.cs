using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace OrleansBus.Silo.Tests.Chukcha;

/// <summary>
/// The consume loop of chukcha's simple client (client/simple.go), re-stated against one address so a test can run
/// it to its io.EOF: per instance (the chunk name's owner) it keeps a current chunk, an offset and the index of the
/// last acknowledged chunk; it lists chunks (skipping indexes already acknowledged), starts a new instance at its
/// oldest complete chunk, reads until an empty reply, and only on an empty reply for a complete chunk looks up the
/// instance's next chunk, acknowledges the current one with the offset reached, and moves on. A 404 on /read means
/// "not here yet". Only the observable protocol is copied, so the silo is tested against what the client does.
/// </summary>
public sealed partial class ChukchaSimpleConsumer(HttpClient client, string category, int scratchBytes)
{
    private sealed class Position
    {
        public required ListedChunk Current { get; set; }
        public long Offset { get; set; }
        public int LastAckedIndex { get; set; } = -1;
    }

    private enum Step
    {
        Processed,
        Retry,
        Eof,
    }

    private readonly Dictionary<string, Position> _positions = new(StringComparer.Ordinal);

    /// <summary>Chunks acknowledged so far, in order.</summary>
    public List<string> Acknowledged { get; } = [];

    /// <summary>Runs the loop until it reports io.EOF (nothing more to read now); returns the bytes processed.</summary>
    public async Task<byte[]> DrainAsync()
    {
        using var output = new MemoryStream();
        for (var steps = 0; ; steps++)
        {
            Assert.True(steps < 100_000, $"The chukcha loop on {category} never reached EOF.");
            if (await TryProcessAsync(output) == Step.Eof)
                return output.ToArray();
        }
    }

    private async Task<Step> TryProcessAsync(MemoryStream output)
    {
        if (!await UpdatePositionsAsync())
            return Step.Eof;
        var retry = false;
        foreach (var (instance, position) in _positions.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var step = await ProcessInstanceAsync(instance, position, output);
            if (step == Step.Processed)
                return step;
            retry |= step == Step.Retry;
        }
        return retry ? Step.Retry : Step.Eof;
    }

    private async Task<Step> ProcessInstanceAsync(string instance, Position position, MemoryStream output)
    {
        var read = await ChukchaHttp.ReadAsync(client, category, position.Current.Name, position.Offset, scratchBytes);
        if (read.Status == HttpStatusCode.NotFound)
            return Step.Eof;
        Assert.True(read.Status == HttpStatusCode.OK, $"/read of {position.Current.Name} at {position.Offset} answered {(int)read.Status}: the client would fail.");
        if (read.Bytes.Length > 0)
        {
            output.Write(read.Bytes);
            position.Offset += read.Bytes.Length;
            return Step.Processed;
        }
        if (!position.Current.Complete)
            return Step.Eof;
        var currentIndex = Parse(position.Current.Name).Index;
        var unacked = await UnackedByInstanceAsync(new Dictionary<string, int> { [instance] = currentIndex });
        if (unacked is null || !unacked.TryGetValue(instance, out var next) || next.Count == 0)
            return Step.Eof;
        await ChukchaHttp.AckAsync(client, category, position.Current.Name, position.Offset);
        Acknowledged.Add(position.Current.Name);
        position.LastAckedIndex = currentIndex;
        position.Current = next[0];
        position.Offset = 0;
        return Step.Retry;
    }

    /// <returns>False when the list is empty (the client's io.EOF).</returns>
    private async Task<bool> UpdatePositionsAsync()
    {
        var lastAcked = _positions.ToDictionary(p => p.Key, p => p.Value.LastAckedIndex, StringComparer.Ordinal);
        var byInstance = await UnackedByInstanceAsync(lastAcked);
        if (byInstance is null)
            return false;
        foreach (var (instance, chunks) in byInstance)
        {
            if (_positions.TryGetValue(instance, out var position))
            {
                var same = chunks.FirstOrDefault(c => c.Name == position.Current.Name);
                if (same is not null)
                    position.Current = same; // picks up "complete" and the size
                continue;
            }
            var sorted = chunks.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            _positions[instance] = new Position { Current = sorted.FirstOrDefault(c => c.Complete) ?? sorted[0] };
        }
        return true;
    }

    /// <returns>Null when /listChunks is empty.</returns>
    private async Task<Dictionary<string, List<ListedChunk>>?> UnackedByInstanceAsync(Dictionary<string, int> lastAckedIndexes)
    {
        var chunks = await ChukchaHttp.ListChunksAsync(client, category);
        if (chunks.Length == 0)
            return null;
        var byInstance = new Dictionary<string, List<ListedChunk>>(StringComparer.Ordinal);
        foreach (var chunk in chunks)
        {
            var (instance, index) = Parse(chunk.Name);
            if (index < 0 || (lastAckedIndexes.TryGetValue(instance, out var acked) && index <= acked))
                continue;
            if (!byInstance.TryGetValue(instance, out var list))
                byInstance[instance] = list = [];
            list.Add(chunk);
        }
        return byInstance;
    }

    /// <summary>chukcha's protocol.ParseChunkFileName: "&lt;instance&gt;-chunk&lt;digits&gt;" split at the last '-'.</summary>
    public static (string Instance, int Index) Parse(string name)
    {
        var dash = name.LastIndexOf('-');
        if (dash < 0)
            return ("", 0);
        var match = ChunkSuffix().Match(name[(dash + 1)..]);
        return match.Success ? (name[..dash], int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)) : ("", 0);
    }

    [GeneratedRegex("^chunk([0-9]+)$")]
    private static partial Regex ChunkSuffix();
}
