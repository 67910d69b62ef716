using System.Net;
using Microsoft.Extensions.Options;
using OrleansBus.Gateway.Hosting;

namespace OrleansBus.Gateway.Routing;

/// <summary>
/// Asks silos <c>GET /health/ready</c> in parallel: live when one answers 200 within the connect timeout.
/// Used for the static list, and for the last known silos while the membership table cannot be read.
/// </summary>
internal sealed class HealthProbe(SiloClient client, IOptions<GatewayOptions> options, TimeProvider time)
{
    public async Task<SiloObservation[]> ProbeAsync(IReadOnlyList<(string Id, Uri Address)> silos, CancellationToken cancellationToken)
    {
        var probes = new Task<SiloObservation>[silos.Count];
        for (var i = 0; i < silos.Count; i++)
            probes[i] = ProbeOneAsync(silos[i].Id, silos[i].Address, cancellationToken);
        return await Task.WhenAll(probes);
    }

    private async Task<SiloObservation> ProbeOneAsync(string id, Uri address, CancellationToken cancellationToken)
    {
        // Evidence time is when the probe was sent: the silo was alive at or after this instant.
        var sentAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.ConnectTimeout);
        try
        {
            using var response = await client.Http.GetAsync(new Uri(address, "health/ready"), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return new SiloObservation(id, address, response.StatusCode == HttpStatusCode.OK, sentAtMs);
        }
        catch (HttpRequestException)
        {
            return new SiloObservation(id, address, IsLive: false, sentAtMs);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SiloObservation(id, address, IsLive: false, sentAtMs); // too slow to count as live
        }
    }
}
