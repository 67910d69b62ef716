using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace OrleansBus.ServiceDefaults;

/// <summary>
/// What every OrleansBus service (silo, gateway) sets up the same way, Aspire's "service defaults" convention:
/// OpenTelemetry metrics (our <c>OrleansBus</c> meter, Orleans', ASP.NET Core, HttpClient, the runtime) served as Prometheus text on
/// <c>/metrics</c>, and — when an OTLP endpoint is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, which Aspire sets) —
/// logs, traces (our <c>OrleansBus</c> activity source, ASP.NET Core, HttpClient) and metrics exported over OTLP.
/// Tracing is only switched on with an exporter: an activity per request that nobody collects is cost for nothing.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The name of our <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string TelemetryName = "OrleansBus";

    /// <summary>Where the Prometheus text is served.</summary>
    public const string MetricsPath = "/metrics";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(TelemetryName)
                .AddMeter("Microsoft.Orleans") // Orleans' own: grain calls, messaging, membership, activations
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (otlp)
        {
            builder.Logging.AddOpenTelemetry(o =>
            {
                o.IncludeFormattedMessage = true;
                o.IncludeScopes = true;
            });
            telemetry.WithTracing(tracing => tracing
                .AddSource(TelemetryName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>Serves <see cref="MetricsPath"/> (Prometheus text format).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
