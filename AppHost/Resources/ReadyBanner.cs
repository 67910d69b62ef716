using System.Diagnostics;
using System.Net.Http.Json;

namespace OrleansBus.AppHost.Resources;

internal static class ReadyBanner
{
    private sealed record Member(string Id, string Address, string State);

    /// <summary>
    /// Once the gateway is ready, prints where everything is, one line each — <c>silo1 http://…</c> (each silo's own URL,
    /// from Orleans' membership as any silo reports it), <c>gateway http://127.0.0.1:8090</c>, <c>dashboard http://…</c> —
    /// <c>postgres Host=…</c> (for psql or an Orleans client), then <c>ready</c>. Scripts read these lines; people read the gateway's.
    /// </summary>
    public static void PrintEndpointsWhenReady(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway,
        IResourceBuilder<ProjectResource> silo, IResourceBuilder<LocalPostgresResource> postgres, bool withDashboard)
    {
        var started = Stopwatch.StartNew();
        var dashboard = withDashboard ? builder.Configuration["ASPNETCORE_URLS"]?.Split(';')[0] : null;
        gateway.OnResourceReady(async (resource, _, cancellationToken) =>
        {
            foreach (var member in await MembersAsync(silo.Resource.GetEndpoint("http"), cancellationToken))
                Console.WriteLine($"{member.Id} {member.Address} ({member.State})");
            Console.WriteLine($"gateway {resource.GetEndpoint("http").Url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal)}");
            if (!string.IsNullOrEmpty(dashboard))
                Console.WriteLine($"dashboard {dashboard}");
            Console.WriteLine($"postgres {await postgres.Resource.ConnectionStringExpression.GetValueAsync(cancellationToken)}");
            Console.WriteLine($"ready in {started.Elapsed.TotalSeconds:0.0} s: Ctrl+C stops everything");
        });
    }

    private static async Task<IReadOnlyList<Member>> MembersAsync(EndpointReference anySilo, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var members = await http.GetFromJsonAsync<List<Member>>(new Uri($"{anySilo.Url}/cluster/v1/members"), cancellationToken);
            return members?.OrderBy(m => m.Id.Length).ThenBy(m => m.Id, StringComparer.Ordinal).ToList() ?? [];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            Console.WriteLine($"(could not list the silos: {e.Message})");
            return [];
        }
    }
}
