namespace OrleansBus.AppHost.Resources;

internal static class LocalProcessDefaults
{
    /// <summary>Settings every .NET process of the local cluster gets.</summary>
    public static IResourceBuilder<ProjectResource> WithLocalProcessDefaults(this IResourceBuilder<ProjectResource> project, bool dashboard) => project
        // Server GC sizes its heaps per core: several silos on one small machine would starve each other.
        .WithEnvironment("DOTNET_gcServer", "0")
        // No log line per HTTP request (the dashboard's traces show requests).
        .WithEnvironment("Logging__LogLevel__Microsoft.AspNetCore", "Warning")
        // Under the test builder no dashboard listens at the OTLP endpoint Aspire injects: without a short timeout every
        // export, the last one at shutdown included, waits 10 s for it.
        .WithEnvironment("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
        // Without a dashboard, no OTLP endpoint either: ServiceDefaults then exports nothing and traces nothing.
        .WithEnvironment(context =>
        {
            if (!dashboard)
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = "";
        });
}
