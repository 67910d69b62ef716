using OrleansBus.Gateway.Routing;

namespace OrleansBus.Gateway.Api;

/// <summary>The gateway's own routes: health, the silo listing, and the forwarded public API.</summary>
public static class GatewayEndpoints
{
    // The chukcha-compatible API lives at the root, not under /v1/.
    // The chukcha-compatible API at the root, and the silos' description of API v1 (the gateway serves that API).
    private static readonly string[] ChukchaPaths = ["/write", "/read", "/ack", "/listChunks", "/listCategories", "/openapi/v1.json"];

    /// <summary>Maps every gateway route.</summary>
    public static void MapGateway(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => Results.Text("live\n"));
        app.MapGet("/health/ready", (SiloDirectory directory) =>
            directory.Live.Count > 0 ? Results.Text("ready\n") : GatewayErrors.NoLiveSilo(directory.All.Count));
        app.MapGet("/gateway/silos", (SiloDirectory directory) =>
        {
            var all = directory.All;
            var listing = new SiloListing[all.Count];
            for (var i = 0; i < all.Count; i++)
                listing[i] = new SiloListing(all[i].Id, all[i].AddressText, all[i].IsLive, all[i].Outstanding);
            return Results.Json(listing, GatewayJsonContext.Default.SiloListingArray);
        });

        ControlEndpoints.Map(app);
        // Map (no method constraint): every method passes through and the silo decides what it allows.
        RequestDelegate forward = context => context.RequestServices.GetRequiredService<ForwardingEndpoint>().HandleAsync(context);
        app.Map("/v1/{**rest}", forward);
        foreach (var path in ChukchaPaths)
            app.Map(path, forward);
        app.MapFallback(context => GatewayErrors.NotFound(context).ExecuteAsync(context));
    }
}
