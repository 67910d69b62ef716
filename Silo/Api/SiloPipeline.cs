using OrleansBus.ServiceDefaults;

namespace OrleansBus.Silo.Api;

/// <summary>The silo's request pipeline, in one place for the program and for hosts that run a silo in-process (tests).</summary>
public static class SiloPipeline
{
    /// <summary>Failure translation and raw-name checks first, then every route, the service defaults' endpoints, the fallback.</summary>
    public static WebApplication UseBusSilo(this WebApplication app)
    {
        app.UseMiddleware<GrainFailureTranslation>();
        app.UseMiddleware<RawCategoryNameCheck>();
        app.MapBusApi();
        app.MapDefaultEndpoints();
        app.MapFallback(FallbackEndpoint.Handle);
        return app;
    }
}
