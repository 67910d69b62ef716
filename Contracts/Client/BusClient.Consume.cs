using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
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
    public async IAsyncEnumerable<BusDelivery> ConsumeAsync(string category, string group, ConsumeOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= Options.Consumer;
        BusDelivery? previous = null;
        try
        {
            while (true)
            {
                if (previous is { IsSettled: false } && options.AutoAck)
                {
                    // Asking for the next delivery means this one was handled: acknowledge even when cancelled.
                    try
                    {
                        await previous.AckAsync(CancellationToken.None);
                    }
                    catch (BusLeaseLostException)
                    {
                        // Too slow for the lease: the range was (or will be) redelivered; nothing to undo here.
                    }
                }
                previous = null;
                cancellationToken.ThrowIfCancellationRequested();
                BusDelivery? delivery;
                try
                {
                    delivery = await PollAsync(category, group, options, cancellationToken);
                }
                catch (BusNotFoundException e) when (e.Code == BusErrorCodes.CategoryNotFound)
                {
                    await Task.Delay(options.WaitTime > TimeSpan.Zero ? options.WaitTime : TimeSpan.FromSeconds(1), cancellationToken);
                    continue;
                }
                if (delivery is null)
                    continue;
                previous = delivery;
                yield return delivery;
            }
        }
        finally
        {
            if (options.AutoAck && previous is { IsSettled: false })
                await ReleaseQuietlyAsync(previous);
        }
    }

    /// <summary>Best effort: gives an unhandled delivery back at once so another consumer need not wait for the lease.</summary>
    private static async Task ReleaseQuietlyAsync(BusDelivery delivery)
    {
        try
        {
            await delivery.NackAsync(TimeSpan.Zero, "consumer left the loop before asking for the next delivery", CancellationToken.None);
        }
        catch (BusException)
        {
            // The lease expires on its own; redelivery just takes longer.
        }
    }

    internal Task SettleAsync(BusDelivery delivery, int endpoint, string verb, long? offset, TimeSpan delay, string? reason, CancellationToken cancellationToken)
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
