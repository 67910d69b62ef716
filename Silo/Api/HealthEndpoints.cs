using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansBus.Silo.Api;

/// <summary>
/// <c>/health/live</c>: the process answers (the gateway and liveness probes: nothing else). <c>/health/ready</c>: the
/// <see cref="ReadinessChecks"/> — <c>ready</c> (200), <c>ready</c> with what is degraded (200), or 503 <c>not_ready</c>
/// naming what failed.
/// </summary>
public static class HealthEndpoints
{
    public static IResult Live() => Results.Text("live\n");

    public static async Task<IResult> Ready(HealthCheckService checks, CancellationToken cancellationToken)
    {
        var report = await checks.CheckHealthAsync(r => r.Tags.Contains(ReadinessChecks.Tag), cancellationToken);
        var failing = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
            .Select(e => $"{e.Key}: {e.Value.Description ?? e.Value.Status.ToString()}").ToList();
        if (report.Status == HealthStatus.Unhealthy)
            return BusErrors.NotReady(string.Join("; ", failing));
        var text = new StringBuilder("ready\n");
        foreach (var line in failing)
            text.Append("degraded ").Append(line).Append('\n');
        return Results.Text(text.ToString());
    }
}
