using System.Net.Http.Headers;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

public sealed partial class BusClient
{
    private static readonly MediaTypeHeaderValue OctetStream = new("application/octet-stream");

    /// <summary>
    /// Sends one pre-formed batch: newline-terminated messages (<c>"a\nb\n"</c>). The server validates the whole
    /// batch before writing any of it, and acknowledges after the requested durability.
    /// </summary>
    /// <param name="category">Category name; created on first write with the server's defaults.</param>
    /// <param name="batch">One or more messages, each ending with <c>\n</c>. Must stay unchanged until the task completes.</param>
    /// <param name="durability">What to wait for; null uses <see cref="BusClientOptions.DefaultDurability"/>, then the category's default.</param>
    /// <param name="cancellationToken">Cancels the wait; the batch may still be written.</param>
    /// <returns>Where the batch landed and which guarantee was met.</returns>
    /// <exception cref="BusMessageTooLargeException">A message is over the server's limit; nothing was written.</exception>
    /// <exception cref="BusUnavailableException">No endpoint could be reached.</exception>
    /// <remarks>After a connection failure the batch is sent to the next endpoint, and may then be written twice (at-least-once).</remarks>
    public async Task<ProduceResult> ProduceAsync(string category, ReadOnlyMemory<byte> batch, Durability? durability = null, CancellationToken cancellationToken = default)
    {
        var path = "v1/categories/" + Segment(category, "category") + "/messages";
        var query = '?';
        if ((durability ?? Options.DefaultDurability) is { } chosen)
        {
            path += query + "durability=" + chosen.ToWire();
            query = '&';
        }
        if (Options.MinSyncReplicas > 0)
            path += query + "min_sync_replicas=" + Options.MinSyncReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var activity = ClientTelemetry.StartProduce(category); // the trace's root, unless the caller has one
        try
        {
            var result = await ExecuteAsync(
                endpoint =>
                {
                    var content = new ReadOnlyMemoryContent(batch);
                    content.Headers.ContentType = OctetStream;
                    return new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path)) { Content = content };
                },
                static (response, _, token) => ReadJsonAsync(response, BusClientJsonContext.Default.ProduceResult, token),
                Options.RequestTimeout, preferredEndpoint: null, cancellationToken);
            ClientTelemetry.Finish(activity, result, null);
            return result;
        }
        catch (Exception e)
        {
            ClientTelemetry.Finish(activity, null, e);
            throw;
        }
    }

    /// <summary>Sends one pre-formed batch of UTF-8 text: newline-terminated messages.</summary>
    /// <inheritdoc cref="ProduceAsync(string, ReadOnlyMemory{byte}, Durability?, CancellationToken)"/>
    public Task<ProduceResult> ProduceAsync(string category, string batch, Durability? durability = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return ProduceAsync(category, Encoding.UTF8.GetBytes(batch), durability, cancellationToken);
    }

    /// <summary>
    /// Creates a producer that batches messages for <paramref name="category"/> on the client: many
    /// <see cref="BusProducer.SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> calls become few produce requests.
    /// Dispose it (or this client) to send what is still buffered.
    /// </summary>
    /// <param name="category">Category name.</param>
    /// <param name="options">Batching settings; null uses <see cref="BusClientOptions.Producer"/>.</param>
    public BusProducer CreateProducer(string category, BusProducerOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposing) != 0, this);
        return _producers.Create(this, category, options ?? Options.Producer, Options.DefaultDurability);
    }
}
