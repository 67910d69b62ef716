using OrleansBus.Gateway.Hosting;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>Configuration is checked at start and a bad value names its key.</summary>
public sealed class GatewayOptionsTests
{
    [Theory]
    [InlineData(null, "Gateway:PostgresConnectionString is not set")]
    [InlineData("  ", "Gateway:PostgresConnectionString is not set")]
    [InlineData("Host=127.0.0.1;NoSuchKeyword=1", "Gateway:PostgresConnectionString is not a valid connection string")]
    public void Validation_names_the_bad_key(string? connectionString, string expected)
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions { PostgresConnectionString = connectionString });
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_checks_schema_and_intervals()
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions
        {
            PostgresConnectionString = "Host=127.0.0.1",
            PostgresSchema = "Bad-Schema",
            RefreshInterval = TimeSpan.Zero,
            DeadAfter = TimeSpan.FromSeconds(-1),
        });
        Assert.Contains("Gateway:PostgresSchema", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Gateway:RefreshInterval", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Gateway:DeadAfter", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new GatewayOptionsValidator().Validate(null, new GatewayOptions { PostgresConnectionString = "Host=127.0.0.1;Username=postgres" }).Succeeded);
    }

    [Fact]
    public async Task A_gateway_without_a_cluster_to_join_stops_at_start_naming_the_key()
    {
        using var dir = new TempDirectory("gw-opts");
        await using var gateway = new GatewayProcess(dir.Combine("gw", "work"));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => gateway.StartAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("exited with code", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:PostgresConnectionString", failure.Message, StringComparison.Ordinal);
    }
}
