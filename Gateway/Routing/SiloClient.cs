using System.Net;
using Microsoft.Extensions.Options;
using OrleansBus.Gateway.Hosting;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// The one HttpClient the gateway talks to silos with (forwards), over a pooled
/// SocketsHttpHandler. No overall timeout: a long poll may legitimately wait as long as the silo allows, and the
/// client's own disconnect (RequestAborted) cancels it. Only connecting is bounded (ConnectTimeout), because a
/// connect that hangs means a dead silo and the request should go elsewhere. Thread-safe; a singleton.
/// </summary>
public sealed class SiloClient : IDisposable
{
    /// <summary>Creates the client with the configured connect timeout.</summary>
    public SiloClient(IOptions<GatewayOptions> options)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            // Bodies pass through byte for byte, encoded or not; the client decides what it accepts.
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = options.Value.ConnectTimeout,
            // Recycle connections now and then so a silo replaced at the same address is not pinned to a stale socket.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        Http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The shared client.</summary>
    public HttpClient Http { get; }

    /// <summary>Whether <paramref name="silo"/> answers <c>/health/live</c> with a success within <paramref name="within"/>.</summary>
    internal async Task<bool> AnswersHealthCheckAsync(SiloEntry silo, TimeSpan within, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(within);
        try
        {
            using var response = await Http.GetAsync(new Uri(silo.Address, "health/live"), deadline.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Http.Dispose();
}
