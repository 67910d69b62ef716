using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.AppHost.Tests;

/// <summary>Produces numbered messages through the gateway and consumes them with one group, as a user of the cluster would.</summary>
internal static class GatewayTraffic
{
    /// <summary>Produces m-0000 … in batches, with one peer's copy before each reply; fails on any refusal.</summary>
    public static async Task ProduceAsync(HttpClient gateway, string category, int messages, int perRequest, Func<string> diagnostics)
    {
        for (var first = 0; first < messages; first += perRequest)
        {
            var body = new StringBuilder();
            for (var n = first; n < Math.Min(messages, first + perRequest); n++)
                body.Append(CultureInfo.InvariantCulture, $"m-{n:0000}\n");
            using var produced = await gateway.PostAsync(
                new Uri($"/v1/categories/{category}/messages?min_sync_replicas=1", UriKind.Relative), new StringContent(body.ToString()));
            await ExpectAsync(produced, HttpStatusCode.OK, $"produce m-{first:0000}.. through the gateway", diagnostics);
        }
    }

    /// <summary>Polls group <c>g</c>, acknowledging each delivery, until every message came and a poll finds nothing more.</summary>
    public static async Task<Dictionary<string, int>> ConsumeAllAsync(HttpClient gateway, string category, int messages, TimeSpan timeout, Func<string> diagnostics)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < timeout,
                $"After {timeout.TotalSeconds:0} s the group had delivered {seen.Count} of {messages} messages.\n{diagnostics()}");
            using var request = new HttpRequestMessage(HttpMethod.Post,
                new Uri($"/v1/categories/{category}/groups/g/poll?max_messages=250&wait_ms=500", UriKind.Relative));
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await gateway.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                if (seen.Count >= messages)
                    return seen; // everything came, and nothing is left (no redelivery pending)
                continue;
            }
            await ExpectAsync(response, HttpStatusCode.OK, "poll group g through the gateway", diagnostics);
            var polled = (await response.Content.ReadFromJsonAsync<PollResult>())!;
            foreach (var message in polled.Messages)
                seen[message] = seen.GetValueOrDefault(message) + 1;
            using var ack = await gateway.PostAsJsonAsync(new Uri($"/v1/categories/{category}/groups/g/ack", UriKind.Relative), new AckRequest(polled.Delivery));
            await ExpectAsync(ack, HttpStatusCode.NoContent, $"ack of {polled.Chunk} [{polled.Offset},{polled.NextOffset})", diagnostics);
        }
    }

    /// <summary>Fails unless every message m-0000 … came exactly once.</summary>
    public static void AssertExactlyOnce(Dictionary<string, int> seen, int messages)
    {
        var duplicates = seen.Where(pair => pair.Value > 1).Select(pair => $"{pair.Key} x{pair.Value}").ToList();
        var missing = Enumerable.Range(0, messages).Select(n => $"m-{n:0000}").Where(m => !seen.ContainsKey(m)).ToList();
        Assert.True(duplicates.Count == 0 && missing.Count == 0 && seen.Count == messages,
            $"Not every message exactly once: {duplicates.Count} duplicated ({string.Join(", ", duplicates.Take(10))}), " +
            $"{missing.Count} missing ({string.Join(", ", missing.Take(10))}), {seen.Count} distinct.");
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what, Func<string> diagnostics)
    {
        if (response.StatusCode == expected)
            return;
        var body = await response.Content.ReadAsStringAsync();
        throw new Xunit.Sdk.XunitException($"{what} answered {(int)response.StatusCode} instead of {(int)expected}: {body}\n{diagnostics()}");
    }
}
