using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Api;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// A grain call that fails because its silo is gone answers 503 problem+json with a code and Retry-After, never a bare
/// 500 with an Orleans stack trace; anything else is left to the server (and a reply already under way is not touched).
/// </summary>
public sealed class GrainFailureTranslationTests
{
    public static TheoryData<Exception, string> GrainFailures() => new()
    {
        { new PinnedSiloUnavailableException("s3", "chunkwriter/orders/s3"), "silo_unavailable" },
        { new TimeoutException("Response did not arrive on time in 00:00:30"), "cluster_unavailable" },
        { new SiloUnavailableException("The target silo became unavailable for message"), "cluster_unavailable" },
        { new OrleansBus.Silo.Metadata.MetadataStoreException("PostgreSQL metadata store error 57P01: terminating connection due to administrator command"), "metadata_unavailable" },
        { new InvalidOperationException("group state write failed", new OrleansBus.Silo.Metadata.MetadataStoreException("PostgreSQL metadata store unavailable")), "metadata_unavailable" },
    };

    [Theory]
    [MemberData(nameof(GrainFailures))]
    public async Task A_failed_grain_call_answers_503_with_its_code_and_retry_after(Exception failure, string code)
    {
        var http = NewContext();
        await new GrainFailureTranslation(_ => throw failure, NullLogger<GrainFailureTranslation>.Instance).InvokeAsync(http);

        Assert.Equal((int)HttpStatusCode.ServiceUnavailable, http.Response.StatusCode);
        Assert.Equal("1", http.Response.Headers.RetryAfter.ToString());
        Assert.StartsWith("application/problem+json", http.Response.ContentType, StringComparison.Ordinal);
        http.Response.Body.Position = 0;
        using var problem = await JsonDocument.ParseAsync(http.Response.Body);
        Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
        Assert.DoesNotContain("   at ", problem.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_exceptions_are_not_swallowed()
    {
        var translation = new GrainFailureTranslation(_ => throw new InvalidOperationException("a bug"), NullLogger<GrainFailureTranslation>.Instance);
        await Assert.ThrowsAsync<InvalidOperationException>(() => translation.InvokeAsync(NewContext()));
    }

    private static DefaultHttpContext NewContext() => new()
    {
        RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider(),
        Response = { Body = new MemoryStream() },
    };
}
