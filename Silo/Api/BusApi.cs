using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary>The public HTTP API v1 routes (paths fixed by ARCHITECTURE.md), described at <c>/openapi/v1.json</c>.</summary>
public static class BusApi
{
    public static void MapBusApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(); // /openapi/v1.json
        app.MapGet("/health/live", HealthEndpoints.Live);
        app.MapGet("/health/ready", HealthEndpoints.Ready);

        var v1 = app.MapGroup("/v1/categories");
        v1.MapGet("", CategoryEndpoints.ListAsync);
        v1.MapGet("/{category}", CategoryEndpoints.GetAsync);
        v1.MapPut("/{category}", CategoryEndpoints.PutAsync);
        v1.MapDelete("/{category}", CategoryEndpoints.DeleteAsync).Produces<Contracts.CategoryInfo>(StatusCodes.Status202Accepted);
        v1.MapPost("/{category}/messages", ProduceEndpoint.HandleAsync);
        v1.MapGet("/{category}/chunks", ChunkEndpoints.ListAsync);
        v1.MapGet("/{category}/chunks/{chunk}", ChunkEndpoints.ReadAsync).ProducesProblem(StatusCodes.Status410Gone); // expired by retention
        v1.MapPost("/{category}/groups/{group}/poll", GroupEndpoints.PollAsync);
        v1.MapPost("/{category}/groups/{group}/ack", GroupEndpoints.AckAsync);
        v1.MapPost("/{category}/groups/{group}/nack", GroupEndpoints.NackAsync);
        v1.MapGet("/{category}/groups/{group}", GroupEndpoints.StatusAsync);
        v1.MapPost("/{category}/groups/{group}/seek", GroupEndpoints.SeekAsync);
        // Every v1 refusal is problem+json with a code (README, "Errors"); the document says so for each route.
        v1.ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithTags("v1");
        app.MapChukchaApi();
        Cluster.ClusterEndpoints.MapClusterApi(app);
    }
}
