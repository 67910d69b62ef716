using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansBus.Silo.Tests.Api;

/// <summary><c>/openapi/v1.json</c> describes every route of API v1, each with its problem+json refusals.</summary>
public sealed class OpenApiTests(SiloApiFactory factory) : IClassFixture<SiloApiFactory>
{
    [Fact]
    public async Task Every_v1_route_is_in_the_openapi_document_with_its_problem_responses()
    {
        using var client = factory.CreateClient();
        using var response = await client.GetAsync("/openapi/v1.json");
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");

        // The routes the silo actually maps under /v1, from its own endpoint table.
        var routes = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/v1/", StringComparison.Ordinal) == true)
            .Select(e => (Path: e.RoutePattern.RawText!.TrimEnd('/'), Method: e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Single().ToLowerInvariant()))
            .ToList();
        Assert.True(routes.Count >= 11, $"Only {routes.Count} v1 routes found in the endpoint table.");
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in /openapi/v1.json.");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method.ToUpperInvariant()} {path} is not in /openapi/v1.json.");
            var problem = operation.GetProperty("responses").GetProperty("400").GetProperty("content");
            Assert.True(problem.TryGetProperty("application/problem+json", out _), $"{method.ToUpperInvariant()} {path} does not describe its 400 as problem+json.");
        }
    }
}
