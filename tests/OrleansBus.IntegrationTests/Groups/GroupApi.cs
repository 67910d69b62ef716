using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Groups;

/// <summary>What a poll asks for; null fields are left out of the query (the silo's defaults apply).</summary>
internal sealed record PollQuery(
    int? MaxMessages = null, int? MaxBytes = null, int WaitMs = 0, int? LeaseMs = null, string? Consumer = null, string? Start = null);

/// <summary>One poll reply (200), from the raw body + headers or from the JSON form.</summary>
internal sealed record Polled(
    string Token, string Chunk, long Offset, long NextOffset, DateTimeOffset LeaseExpiresAt, int DeliveryCount, IReadOnlyList<string> Messages);

/// <summary>Outcome of an ack or nack: the status and, for a problem reply, its stable code.</summary>
internal sealed record Settled(HttpStatusCode Status, string? Code, string Body);

/// <summary>
/// The consumer-group part of the public HTTP API v1 of one silo, with the wire formats of ARCHITECTURE.md.
/// Any reply other than the documented ones fails with the silo's answer in the message. Thread safe.
/// </summary>
internal sealed class GroupApi(HttpClient http, string baseUrl, string logPath)
{
    public string BaseUrl { get; } = baseUrl;

    public async Task<ProduceResult> ProduceAsync(string category, string body)
    {
        using var response = await http.PostAsync(Url($"/v1/categories/{category}/messages"), new StringContent(body));
        await ExpectAsync(response, HttpStatusCode.OK, $"produce to {category}");
        return (await response.Content.ReadFromJsonAsync<ProduceResult>())!;
    }

    /// <summary>Polls; null on 204 (nothing by the wait).</summary>
    public async Task<Polled?> PollAsync(string category, string group, PollQuery query, bool json = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"/v1/categories/{category}/groups/{group}/poll{QueryString(query)}"));
        if (json)
            request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NoContent)
            return null;
        await ExpectAsync(response, HttpStatusCode.OK, $"poll {category}/{group}");
        return json ? await ReadJsonAsync(response) : await ReadRawAsync(response);
    }

    public async Task<Settled> AckAsync(string category, string group, string token, long? offset = null)
    {
        using var response = await http.PostAsJsonAsync(Url($"/v1/categories/{category}/groups/{group}/ack"), new AckRequest(token, offset));
        return await SettledAsync(response);
    }

    public async Task<Settled> NackAsync(string category, string group, string token, long delayMs = 0, string? reason = null)
    {
        using var response = await http.PostAsJsonAsync(Url($"/v1/categories/{category}/groups/{group}/nack"), new NackRequest(token, delayMs, reason));
        return await SettledAsync(response);
    }

    public async Task<GroupInfo> StatusAsync(string category, string group)
    {
        using var response = await http.GetAsync(Url($"/v1/categories/{category}/groups/{group}"));
        await ExpectAsync(response, HttpStatusCode.OK, $"status of {category}/{group}");
        return (await response.Content.ReadFromJsonAsync<GroupInfo>())!;
    }

    public async Task<GroupInfo> SeekAsync(string category, string group, string position)
    {
        using var response = await http.PostAsJsonAsync(Url($"/v1/categories/{category}/groups/{group}/seek"), new SeekRequest(position));
        await ExpectAsync(response, HttpStatusCode.OK, $"seek {category}/{group} to {position}");
        return (await response.Content.ReadFromJsonAsync<GroupInfo>())!;
    }

    public async Task<ChunkInfo[]> ChunksAsync(string category)
    {
        using var response = await http.GetAsync(Url($"/v1/categories/{category}/chunks"));
        await ExpectAsync(response, HttpStatusCode.OK, $"chunk list of {category}");
        return (await response.Content.ReadFromJsonAsync<ChunkInfo[]>())!;
    }

    /// <summary>Every byte of a chunk through the raw read, following Bus-Next-Offset.</summary>
    public async Task<string> ReadChunkAsync(string category, string chunk, long size)
    {
        var text = new StringBuilder();
        long offset = 0;
        while (offset < size)
        {
            using var response = await http.GetAsync(Url($"/v1/categories/{category}/chunks/{chunk}?offset={offset}&max_bytes=1048576"));
            await ExpectAsync(response, HttpStatusCode.OK, $"raw read of {category}/{chunk} at {offset}");
            text.Append(await response.Content.ReadAsStringAsync());
            offset = long.Parse(response.Headers.GetValues(BusHeaders.NextOffset).Single(), CultureInfo.InvariantCulture);
        }
        return text.ToString();
    }

    private Uri Url(string pathAndQuery) => new(BaseUrl + pathAndQuery);

    private static string QueryString(PollQuery q)
    {
        var parts = new List<string> { $"wait_ms={q.WaitMs}" };
        if (q.MaxMessages is { } m)
            parts.Add($"max_messages={m}");
        if (q.MaxBytes is { } b)
            parts.Add($"max_bytes={b}");
        if (q.LeaseMs is { } l)
            parts.Add($"lease_ms={l}");
        if (q.Consumer is { } c)
            parts.Add($"consumer={Uri.EscapeDataString(c)}");
        if (q.Start is { } s)
            parts.Add($"start={s}");
        return "?" + string.Join('&', parts);
    }

    private static async Task<Polled> ReadRawAsync(HttpResponseMessage response)
    {
        var headers = response.Headers;
        string Header(string name) => headers.TryGetValues(name, out var values)
            ? values.Single()
            : throw new Xunit.Sdk.XunitException($"A 200 poll reply has no {name} header.");
        var offset = long.Parse(Header(BusHeaders.Offset), CultureInfo.InvariantCulture);
        var next = long.Parse(Header(BusHeaders.NextOffset), CultureInfo.InvariantCulture);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length == next - offset,
            $"A poll body is {body.Length} bytes but Bus-Offset {offset} to Bus-Next-Offset {next} spans {next - offset}.");
        Assert.True(body.Length > 0 && body[^1] == (byte)'\n', "A poll body does not end with a newline (half a message).");
        var messages = Encoding.UTF8.GetString(body, 0, body.Length - 1).Split('\n');
        return new Polled(Header(BusHeaders.Delivery), Header(BusHeaders.Chunk), offset, next,
            DateTimeOffset.Parse(Header(BusHeaders.LeaseExpires), CultureInfo.InvariantCulture),
            int.Parse(Header(BusHeaders.DeliveryCount), CultureInfo.InvariantCulture), messages);
    }

    private static async Task<Polled> ReadJsonAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var result = (await response.Content.ReadFromJsonAsync<PollResult>())!;
        return new Polled(result.Delivery, result.Chunk, result.Offset, result.NextOffset, result.LeaseExpiresAt, result.DeliveryCount, result.Messages);
    }

    private static async Task<Settled> SettledAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        string? code = null;
        if (body.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            using var problem = JsonDocument.Parse(body);
            code = problem.RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
        }
        return new Settled(response.StatusCode, code, body);
    }

    private async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode == expected)
            return;
        var body = await response.Content.ReadAsStringAsync();
        throw new Xunit.Sdk.XunitException(
            $"{what} on {BaseUrl} answered {(int)response.StatusCode} instead of {(int)expected}: {body} (silo log: {logPath})");
    }
}
