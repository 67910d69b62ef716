using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// The .NET client of the OrleansBus HTTP API v1: produce (single batches, or batched by a <see cref="BusProducer"/>),
/// consume through consumer groups, and the admin reads. Thread safe; make one per application and share it.
/// </summary>
/// <remarks>
/// <para><b>Failover.</b> Requests go to the endpoint that answered last. When a request cannot connect (refused,
/// unresolvable, connect timeout, connection dropped before a reply) or the silo answers 503 <c>not_ready</c>, the
/// same request goes to the next endpoint; when every endpoint fails that way the call throws
/// <see cref="BusUnavailableException"/>. An HTTP error reply is never retried: it throws a <see cref="BusException"/>.</para>
/// <para><b>At-least-once.</b> A produce whose connection dropped after the request was sent may have been written;
/// sending it again to the next endpoint can then write it twice. Consumers must tolerate duplicates (as they must
/// anyway: an expired lease redelivers).</para>
/// </remarks>
public sealed partial class BusClient : IBusClient, IBatchSender, IDeliverySettler, IAsyncDisposable, IDisposable
{
    /// <summary>Name of the <see cref="HttpClient"/> the DI registration configures (add handlers to it with <c>AddHttpClient(BusClient.HttpClientName)</c>).</summary>
    public const string HttpClientName = "OrleansBus";

    private readonly EndpointSet _endpoints;
    private readonly Func<HttpClient> _http;
    private readonly HttpClient? _ownedHttp;
    private readonly ProducerSet _producers = new();
    private int _disposing;
    private int _disposed;

    /// <summary>Creates a client that owns its connections (a <see cref="SocketsHttpHandler"/> without proxy).</summary>
    public BusClient(BusClientOptions options)
        : this(new HttpClient(CreateHandler(ValidOrThrow(options)), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan }, options)
    {
    }

    /// <summary>
    /// Creates a client over <paramref name="httpClient"/>, which it does not dispose. Its <see cref="HttpClient.Timeout"/>
    /// must allow long polls: the client enforces <see cref="BusClientOptions.RequestTimeout"/> itself.
    /// </summary>
    public BusClient(BusClientOptions options, HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        Options = ValidOrThrow(options);
        _endpoints = new EndpointSet(options.Endpoints);
        _http = () => httpClient;
    }

    /// <summary>Creates a client that takes a client named <see cref="HttpClientName"/> from <paramref name="httpClientFactory"/> per request.</summary>
    public BusClient(BusClientOptions options, IHttpClientFactory httpClientFactory)
    {
        ArgumentNullException.ThrowIfNull(httpClientFactory);
        Options = ValidOrThrow(options);
        _endpoints = new EndpointSet(options.Endpoints);
        _http = () =>
        {
            var client = httpClientFactory.CreateClient(HttpClientName);
            client.Timeout = Timeout.InfiniteTimeSpan; // a fresh instance per call; RequestTimeout is enforced per request
            return client;
        };
    }

    private BusClient(HttpClient ownedHttp, BusClientOptions options)
    {
        Options = options;
        _endpoints = new EndpointSet(options.Endpoints);
        _ownedHttp = ownedHttp;
        _http = () => ownedHttp;
    }

    /// <summary>The settings this client was made with. Change nothing after construction.</summary>
    public BusClientOptions Options { get; }

    /// <summary>The endpoints, in the order they are tried.</summary>
    public IReadOnlyList<Uri> Endpoints => _endpoints.All;

    /// <summary>The endpoint the next request goes to first: the last one that answered.</summary>
    public Uri CurrentEndpoint => _endpoints[_endpoints.Current];

    /// <summary>The handler the client uses when it owns its connections: no proxy, <see cref="BusClientOptions.ConnectTimeout"/>, pooled connections renewed every 2 minutes (DNS changes).</summary>
    public static SocketsHttpHandler CreateHandler(BusClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.None,
        };
    }

    /// <summary>Flushes and disposes every producer made by this client that is still open, then closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
            return;
        try
        {
            await _producers.DisposeAllAsync();
        }
        finally
        {
            Volatile.Write(ref _disposed, 1);
            _ownedHttp?.Dispose();
        }
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/> (for containers that dispose synchronously); blocks while producers flush.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    void IBatchSender.Forget(BusProducer producer) => _producers.Forget(producer);

    private static BusClientOptions ValidOrThrow(BusClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        return options;
    }

    /// <summary>
    /// Sends one request with failover: builds it per attempt (a request message is single-use), starts at
    /// <paramref name="preferredEndpoint"/> or the current endpoint, moves on after a connection failure or 503
    /// not_ready, reads a success reply with <paramref name="read"/> (inside the attempt, so a connection that drops
    /// mid-body also fails over), and turns an error reply into a <see cref="BusException"/>. The timeout covers
    /// every attempt together; connect attempts are bounded by <see cref="BusClientOptions.ConnectTimeout"/>.
    /// </summary>
    internal async Task<T> ExecuteAsync<T>(
        Func<Uri, HttpRequestMessage> create,
        Func<HttpResponseMessage, int, CancellationToken, Task<T>> read,
        TimeSpan timeout,
        int? preferredEndpoint,
        CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var token = timeoutSource.Token;
        var count = _endpoints.Count;
        var first = preferredEndpoint ?? _endpoints.Current;
        List<Uri>? tried = null;
        List<Exception>? failures = null;
        BusException? notReady = null;
        for (var attempt = 0; attempt < count; attempt++)
        {
            var index = (first + attempt) % count;
            var endpoint = _endpoints[index];
            try
            {
                using var request = create(endpoint);
                using var response = await _http().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                if (!response.IsSuccessStatusCode)
                {
                    var error = await BusException.FromResponseAsync(response, endpoint, token);
                    if (error.Code == BusErrorCodes.NotReady)
                    {
                        // Refused before doing anything (starting or stopping): safe to send elsewhere.
                        notReady = error;
                        (tried ??= []).Add(endpoint);
                        (failures ??= []).Add(error);
                        continue;
                    }
                    _endpoints.MarkGood(index);
                    throw error;
                }
                var result = await read(response, index, token);
                _endpoints.MarkGood(index);
                return result;
            }
            catch (OperationCanceledException e) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new BusTimeoutException(endpoint, timeout, e);
            }
            catch (Exception e) when (!token.IsCancellationRequested && IsConnectionFailure(e))
            {
                (tried ??= []).Add(endpoint);
                (failures ??= []).Add(e);
            }
        }
        if (notReady is not null)
            throw notReady;
        throw new BusUnavailableException(tried!, failures!);
    }

    /// <summary>
    /// Transport failures (no HTTP reply): refused, reset, unresolvable, connect timeout (an OperationCanceledException
    /// that is neither the caller's nor our request timeout), a reply cut short. An HTTP status is never one.
    /// </summary>
    private static bool IsConnectionFailure(Exception e) => e switch
    {
        HttpRequestException { StatusCode: null } => true,
        IOException or SocketException => true,
        OperationCanceledException { InnerException: TimeoutException } => true,
        _ => false,
    };

    internal static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        try
        {
            return await JsonSerializer.DeserializeAsync(body, type, cancellationToken)
                ?? throw new BusException($"The server answered {(int)response.StatusCode} with an empty JSON body where a {typeof(T).Name} was expected.");
        }
        catch (JsonException e)
        {
            throw new BusException($"The server's reply is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Category and group names follow one rule; checking it here gives the server's error without a round trip.</summary>
    internal static string Segment(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name, what);
        if (!CategoryName.IsValid(name))
        {
            var code = what == "group" ? BusErrorCodes.InvalidGroupName : BusErrorCodes.InvalidCategoryName;
            var detail = what == "group"
                ? "Group names follow the category name rule: ^[a-z0-9][a-z0-9._-]{0,127}$."
                : CategoryName.Explain(name) ?? "Invalid category name.";
            throw BusException.Create(400, code, detail, name, CategoryName.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture), null);
        }
        return name; // the rule admits only unreserved URI characters: nothing to escape
    }
}
