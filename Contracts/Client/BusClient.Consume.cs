using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

public sealed partial class BusClient
{
    /// <summary>
    /// One long poll: leases the next range of one chunk to this consumer of <paramref name="group"/>, waiting up to
    /// <see cref="ConsumeOptions.WaitTime"/> for data. A group polled for the first time is created at
    /// <see cref="ConsumeOptions.Start"/>.
    /// </summary>
    /// <param name="category">Category name.</param>
    /// <param name="group">Consumer group name (same rule as category names).</param>
    /// <param name="options">Poll settings; null uses <see cref="BusClientOptions.Consumer"/>.</param>
    /// <param name="cancellationToken">Cancels the poll.</param>
    /// <returns>The delivery, or null when nothing came within the wait.</returns>
    /// <exception cref="BusNotFoundException">Code <c>category_not_found</c>: the category does not exist (on the endpoint that answered).</exception>
    public Task<BusDelivery?> PollAsync(string category, string group, ConsumeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= Options.Consumer;
        var path = new StringBuilder("v1/categories/").Append(Segment(category, "category"))
            .Append("/groups/").Append(Segment(group, "group")).Append("/poll?wait_ms=")
            .Append((long)options.WaitTime.TotalMilliseconds)
            .Append("&consumer=").Append(Uri.EscapeDataString(options.EffectiveConsumerId))
            .Append("&start=").Append(options.Start == ConsumeStart.Latest ? "latest" : "earliest");
        if (options.MaxBytes is { } maxBytes)
            path.Append("&max_bytes=").Append(maxBytes);
        if (options.MaxMessages is { } maxMessages)
            path.Append("&max_messages=").Append(maxMessages);
        if (options.LeaseTime is { } lease)
            path.Append("&lease_ms=").Append((long)lease.TotalMilliseconds);
        var relative = path.ToString();
        return ExecuteAsync(
            endpoint => new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, relative)),
            (response, endpoint, token) => ReadDeliveryAsync(response, endpoint, category, group, token),
            options.WaitTime + Options.RequestTimeout, preferredEndpoint: null, cancellationToken);
    }

    /// <summary>
    /// Consumes <paramref name="group"/>'s share of <paramref name="category"/> for ever: long polls one after another
    /// and yields each delivery. Ends only by cancellation, by leaving the loop, or with an exception
    /// (<see cref="BusUnavailableException"/> when no endpoint answers).
    /// </summary>
    /// <remarks>
    /// With <see cref="ConsumeOptions.AutoAck"/>, a delivery not settled by the loop body is acknowledged when the loop
    /// asks for the next one (a lost lease is then ignored: the range is redelivered, at-least-once); a delivery the loop
    /// leaves with <c>break</c> or an exception is released for redelivery, so acknowledge it first if it was handled.
    /// Without it, settle each delivery yourself. A category that does not exist yet counts as empty: the loop waits for it.
    /// </remarks>
    /// <param name="category">Category name.</param>
    /// <param name="group">Consumer group name.</param>
    /// <param name="options">Poll settings; null uses <see cref="BusClientOptions.Consumer"/>.</param>
    /// <param name="cancellationToken">Ends the loop (with an <see cref="OperationCanceledException"/>).</param>
    public IAsyncEnumerable<BusDelivery> ConsumeAsync(string category, string group, ConsumeOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= Options.Consumer;
        return DeliveryLoop.RunAsync((o, token) => PollAsync(category, group, o, token), options, cancellationToken);
    }

    Task IDeliverySettler.SettleAsync(BusDelivery delivery, int endpoint, string verb, long? offset, TimeSpan delay, string? reason, CancellationToken cancellationToken)
    {
        var path = "v1/categories/" + delivery.Category + "/groups/" + delivery.Group + "/" + verb;
        return ExecuteAsync(
            baseUri => new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, path))
            {
                Content = verb == "ack"
                    ? JsonContent.Create(new AckRequest(delivery.Token, offset), BusClientJsonContext.Default.AckRequest)
                    : JsonContent.Create(new NackRequest(delivery.Token, (long)delay.TotalMilliseconds, reason), BusClientJsonContext.Default.NackRequest),
            },
            static (_, _, _) => Task.FromResult(true),
            Options.RequestTimeout, preferredEndpoint: endpoint, cancellationToken);
    }

    private async Task<BusDelivery?> ReadDeliveryAsync(HttpResponseMessage response, int endpoint, string category, string group, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NoContent)
            return null;
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new BusDelivery(this, endpoint, category, group,
            token: Header(response, BusHeaders.Delivery),
            chunk: Header(response, BusHeaders.Chunk),
            offset: long.Parse(Header(response, BusHeaders.Offset), NumberStyles.None, CultureInfo.InvariantCulture),
            nextOffset: long.Parse(Header(response, BusHeaders.NextOffset), NumberStyles.None, CultureInfo.InvariantCulture),
            leaseExpiresAt: DateTimeOffset.Parse(Header(response, BusHeaders.LeaseExpires), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            deliveryCount: int.Parse(Header(response, BusHeaders.DeliveryCount), NumberStyles.None, CultureInfo.InvariantCulture),
            body);
    }

    private static string Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out var values))
        {
            foreach (var value in values)
                return value;
        }
        throw new BusException($"The server's reply to a poll lacks the {name} header.");
    }
}
