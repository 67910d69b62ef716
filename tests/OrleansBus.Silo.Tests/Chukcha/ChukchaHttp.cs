using System.Globalization;
using System.Net;
using System.Text.Json;
using OrleansBus.Silo.Tests.Api;

namespace OrleansBus.Silo.Tests.Chukcha;

/// <summary>A chunk as chukcha's client decodes <c>/listChunks</c> (its <c>protocol.Chunk</c>), parsed field by field.</summary>
public sealed record ListedChunk(string Name, bool Complete, long Size);

/// <summary>One <c>/read</c> reply: the status and the bytes.</summary>
public sealed record ChukchaRead(HttpStatusCode Status, byte[] Bytes);

/// <summary>
/// The requests chukcha's raw client (client/raw.go) makes, shaped as it shapes them: query parameters in
/// url.Values' order (sorted by key, percent-encoded), <c>POST /write</c> with an octet-stream body, <c>GET</c> for
/// <c>/read</c>, <c>/ack</c>, <c>/listChunks</c> and <c>/listCategories</c>.
/// </summary>
public static class ChukchaHttp
{
    public static string Query(params (string Key, string Value)[] values)
    {
        var sorted = values.OrderBy(v => v.Key, StringComparer.Ordinal);
        return "?" + string.Join('&', sorted.Select(v => v.Key + "=" + Uri.EscapeDataString(v.Value)));
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static Task<HttpResponseMessage> WriteRawAsync(HttpClient client, string query, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        return client.PostAsync(SiloHttp.RawUri(client, "/write" + query), content);
    }

    /// <summary>Writes and asserts chukcha's success reply: 200 with an empty body. Returns the chunk it landed in (our header).</summary>
    public static async Task<string> WriteAsync(HttpClient client, string category, byte[] body)
    {
        using var response = await WriteRawAsync(client, Query(("category", category)), body);
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        return Assert.Single(response.Headers.GetValues(OrleansBus.Contracts.BusHeaders.Chunk));
    }

    public static Task<HttpResponseMessage> GetAsync(HttpClient client, string pathAndQuery) =>
        client.GetAsync(SiloHttp.RawUri(client, pathAndQuery));

    public static async Task<ChukchaRead> ReadAsync(HttpClient client, string category, string chunk, long off, int maxSize)
    {
        using var response = await GetAsync(client, "/read" + Query(("off", Number(off)), ("max_size", Number(maxSize)), ("chunk", chunk), ("category", category)));
        return new ChukchaRead(response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    public static Task<HttpResponseMessage> AckRawAsync(HttpClient client, string category, string chunk, long size) =>
        GetAsync(client, "/ack" + Query(("chunk", chunk), ("size", Number(size)), ("category", category)));

    public static async Task AckAsync(HttpClient client, string category, string chunk, long size)
    {
        using var response = await AckRawAsync(client, category, chunk, size);
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    public static async Task<ListedChunk[]> ListChunksAsync(HttpClient client, string category)
    {
        using var response = await GetAsync(client, "/listChunks" + Query(("category", category)));
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var chunks = new List<ListedChunk>();
        foreach (var item in document.RootElement.EnumerateArray())
        {
            var fields = item.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["complete", "name", "size"], fields);
            chunks.Add(new ListedChunk(item.GetProperty("name").GetString()!, item.GetProperty("complete").GetBoolean(), item.GetProperty("size").GetInt64()));
        }
        return [.. chunks];
    }

    public static async Task<string[]> ListCategoriesAsync(HttpClient client)
    {
        using var response = await GetAsync(client, "/listCategories");
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>Waits until every chunk but the last is complete (sealing after rotation is asynchronous).</summary>
    public static Task<ListedChunk[]> WaitForCompleteChunksAsync(HttpClient client, string category, int chunks) =>
        Eventually.WaitForAsync(
            () => ListChunksAsync(client, category),
            list => list.Length == chunks && list[..^1].All(c => c.Complete),
            list => $"{category} never listed {chunks} chunks with all but the last complete: " +
                string.Join(", ", list.Select(c => $"{c.Name} complete={c.Complete} size={c.Size}")));

    /// <summary>Reads a chunk as chukcha's client does: from 0, <paramref name="maxSize"/> at a time, until an empty reply.</summary>
    public static async Task<byte[]> ReadToEndAsync(HttpClient client, string category, string chunk, int maxSize)
    {
        using var all = new MemoryStream();
        for (var replies = 0; ; replies++)
        {
            Assert.True(replies < 100_000, $"Reading {chunk} never came to an empty reply.");
            var read = await ReadAsync(client, category, chunk, all.Length, maxSize);
            Assert.True(read.Status == HttpStatusCode.OK, $"/read of {chunk} at {all.Length} answered {(int)read.Status}.");
            if (read.Bytes.Length == 0)
                return all.ToArray();
            Assert.Equal((byte)'\n', read.Bytes[^1]);
            all.Write(read.Bytes);
        }
    }

    /// <summary>Newline-terminated messages of varied lengths (8 to about 110 bytes), numbered from <paramref name="first"/>.</summary>
    public static byte[] Messages(int first, int count)
    {
        var text = new System.Text.StringBuilder();
        for (var i = first; i < first + count; i++)
            text.Append(CultureInfo.InvariantCulture, $"m{i:0000}-").Append('x', i * 37 % 100).Append('\n');
        return System.Text.Encoding.ASCII.GetBytes(text.ToString());
    }
}
