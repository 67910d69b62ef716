using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>One raw read: the bytes and the <c>Bus-Next-Offset</c> header.</summary>
public sealed record RawRead(byte[] Bytes, long NextOffset);

/// <summary>
/// Calls of the public HTTP API v1 that the tests repeat, each asserting the happy-path status so a test
/// reads as a story, plus the problem+json assertion every refusal shares.
/// </summary>
public static class SiloHttp
{
    /// <summary>Media type of every refusal.</summary>
    public const string ProblemJson = "application/problem+json";

    /// <summary>
    /// A request URI sent exactly as written: no dot-segment removal, no unescaping. HttpClient would
    /// otherwise turn <c>/v1/categories/../messages</c> into <c>/v1/messages</c> before it leaves the client.
    /// </summary>
    public static Uri RawUri(HttpClient client, string pathAndQuery)
    {
        var baseAddress = client.BaseAddress ?? throw new InvalidOperationException("The client has no base address.");
        var root = baseAddress.GetLeftPart(UriPartial.Authority);
        return new Uri(root + pathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
    }

    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string category, byte[] body, string query = "") =>
        client.PostAsync(RawUri(client, $"/v1/categories/{category}/messages{query}"), new ByteArrayContent(body));

    public static async Task<ProduceResult> ProduceAsync(HttpClient client, string category, byte[] body, string query = "")
    {
        using var response = await PostRawAsync(client, category, body, query);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<ProduceResult>())!;
    }

    public static Task<ProduceResult> ProduceAsync(HttpClient client, string category, string body, string query = "") =>
        ProduceAsync(client, category, Encoding.UTF8.GetBytes(body), query);

    public static async Task<CategoryInfo[]> ListCategoriesAsync(HttpClient client)
    {
        using var response = await client.GetAsync(RawUri(client, "/v1/categories"));
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<CategoryInfo[]>())!;
    }

    public static async Task<CategoryInfo> GetCategoryAsync(HttpClient client, string category)
    {
        using var response = await client.GetAsync(RawUri(client, $"/v1/categories/{category}"));
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<CategoryInfo>())!;
    }

    public static Task<HttpResponseMessage> PutCategoryRawAsync(HttpClient client, string category, string json) =>
        client.PutAsync(RawUri(client, $"/v1/categories/{category}"), new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<CategoryInfo> PutCategoryAsync(HttpClient client, string category, string json)
    {
        using var response = await PutCategoryRawAsync(client, category, json);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<CategoryInfo>())!;
    }

    public static async Task<ChunkInfo[]> ListChunksAsync(HttpClient client, string category)
    {
        using var response = await client.GetAsync(RawUri(client, $"/v1/categories/{category}/chunks"));
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<ChunkInfo[]>())!;
    }

    public static Task<HttpResponseMessage> ReadRawAsync(HttpClient client, string category, string chunk, string query = "") =>
        client.GetAsync(RawUri(client, $"/v1/categories/{category}/chunks/{chunk}{query}"));

    public static async Task<RawRead> ReadAsync(HttpClient client, string category, string chunk, long offset, int? maxBytes = null)
    {
        var query = maxBytes is null
            ? string.Create(CultureInfo.InvariantCulture, $"?offset={offset}")
            : string.Create(CultureInfo.InvariantCulture, $"?offset={offset}&max_bytes={maxBytes}");
        using var response = await ReadRawAsync(client, category, chunk, query);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.True(response.Headers.TryGetValues(BusHeaders.NextOffset, out var values), $"The read reply has no {BusHeaders.NextOffset} header.");
        var next = long.Parse(Assert.Single(values), NumberStyles.None, CultureInfo.InvariantCulture);
        return new RawRead(await response.Content.ReadAsByteArrayAsync(), next);
    }

    /// <summary>Reads a chunk from offset 0 to <paramref name="size"/> in replies of at most <paramref name="maxBytes"/> (whole messages).</summary>
    public static async Task<byte[]> ReadAllAsync(HttpClient client, string category, string chunk, long size, int maxBytes)
    {
        using var all = new MemoryStream();
        long offset = 0;
        var replies = 0;
        while (offset < size)
        {
            Assert.True(++replies <= size + 1, $"Reading {chunk} did not reach its size {size}; stuck at offset {offset}.");
            var read = await ReadAsync(client, category, chunk, offset, maxBytes);
            Assert.NotEmpty(read.Bytes);
            Assert.Equal((byte)'\n', read.Bytes[^1]);
            Assert.Equal(offset + read.Bytes.Length, read.NextOffset);
            all.Write(read.Bytes);
            offset = read.NextOffset;
        }
        Assert.Equal(size, offset);
        return all.ToArray();
    }

    /// <summary>Asserts the status, showing the body when it differs (a problem document says why).</summary>
    public static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected} {expected}, got {(int)response.StatusCode} {response.StatusCode}: {Truncate(body)}");
        }
    }

    /// <summary>Asserts a refusal: the status, <c>application/problem+json</c>, the stable code, and the status echoed in the body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        var what = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode} {response.Content.Headers.ContentType}: {Truncate(body)}";
        Assert.True(response.StatusCode == status, $"Expected {(int)status} {code}. {what}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == ProblemJson, $"Expected {ProblemJson}. {what}");
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement.Clone();
        Assert.True(root.TryGetProperty("code", out var actualCode) && actualCode.GetString() == code, $"Expected code {code}. {what}");
        Assert.True(root.TryGetProperty("status", out var echoed) && echoed.GetInt32() == (int)status, $"Expected status {(int)status} in the body. {what}");
        return root;
    }

    /// <summary>Newline-terminated messages of <paramref name="messageBytes"/> bytes each (newline included).</summary>
    public static byte[] Lines(int count, int messageBytes, byte fill = (byte)'x')
    {
        var body = new byte[count * messageBytes];
        body.AsSpan().Fill(fill);
        for (var i = 1; i <= count; i++)
            body[(i * messageBytes) - 1] = (byte)'\n';
        return body;
    }

    /// <summary>Checks <paramref name="condition"/> every 50 ms until it holds; fails naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(TimeSpan timeout, Func<Task<bool>> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                throw new Xunit.Sdk.XunitException($"Not within {timeout.TotalSeconds:0} s: {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>A fresh category name, unique per call, valid under the name rule.</summary>
    public static string NewCategory(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    private static string Truncate(string text) => text.Length > 600 ? text[..600] + "…" : text;
}
