using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>The public HTTP API v1 routes (paths fixed by ARCHITECTURE.md).</summary>
public static class BusApi
{
    public static void MapBusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", HealthEndpoints.Live);
        app.MapGet("/health/ready", HealthEndpoints.Ready);

        var v1 = app.MapGroup("/v1/categories");
        v1.MapGet("", CategoryEndpoints.ListAsync);
        v1.MapGet("/{category}", CategoryEndpoints.Get);
        v1.MapPut("/{category}", CategoryEndpoints.PutAsync);
        v1.MapPost("/{category}/messages", ProduceEndpoint.HandleAsync);
        v1.MapGet("/{category}/chunks", ChunkEndpoints.ListAsync);
        v1.MapGet("/{category}/chunks/{chunk}", ChunkEndpoints.ReadAsync);
        v1.MapPost("/{category}/groups/{group}/poll", GroupEndpoints.PollAsync);
        v1.MapPost("/{category}/groups/{group}/ack", GroupEndpoints.AckAsync);
        v1.MapPost("/{category}/groups/{group}/nack", GroupEndpoints.NackAsync);
        v1.MapGet("/{category}/groups/{group}", GroupEndpoints.StatusAsync);
        v1.MapPost("/{category}/groups/{group}/seek", GroupEndpoints.SeekAsync);
        app.MapChukchaApi();
        Cluster.ClusterEndpoints.MapClusterApi(app);
    }
}
