using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.IntegrationTests.Client;

/// <summary><c>AddOrleansBusClient</c>: options bound from configuration or code, validated, one shared client over IHttpClientFactory.</summary>
public sealed class DependencyInjectionTests(ClientSilo silo) : IClassFixture<ClientSilo>
{
    [Fact]
    public async Task AddOrleansBusClient_binds_the_OrleansBus_section_and_registers_one_working_client()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OrleansBus:Endpoints:0"] = silo.Process.BaseUrl,
            ["OrleansBus:DefaultDurability"] = "Fsync",
            ["OrleansBus:RequestTimeout"] = "00:00:10",
            ["OrleansBus:Producer:LingerTime"] = "00:00:00.020",
            ["OrleansBus:Producer:MaxBatchBytes"] = "65536",
            ["OrleansBus:Consumer:MaxMessages"] = "7",
            ["OrleansBus:Consumer:Start"] = "Latest",
        }).Build();
        var services = new ServiceCollection();
        services.AddOrleansBusClient(configuration.GetSection(BusClientOptions.SectionName));
        await using var provider = services.BuildServiceProvider(validateScopes: true);

        var client = provider.GetRequiredService<BusClient>();

        Assert.Same(client, provider.GetRequiredService<BusClient>());
        Assert.Equal([new Uri(silo.Process.BaseUrl)], client.Options.Endpoints);
        Assert.Equal(Durability.Fsync, client.Options.DefaultDurability);
        Assert.Equal(TimeSpan.FromSeconds(10), client.Options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(20), client.Options.Producer.LingerTime);
        Assert.Equal(65536, client.Options.Producer.MaxBatchBytes);
        Assert.Equal(7, client.Options.Consumer.MaxMessages);
        Assert.Equal(ConsumeStart.Latest, client.Options.Consumer.Start);
        var result = await client.ProduceAsync("from-di", "configured\n");
        Assert.Equal(DurabilityNames.Fsync, result.Durability);
    }

    [Fact]
    public async Task AddOrleansBusClient_configured_in_code_produces_and_consumes()
    {
        var services = new ServiceCollection();
        services.AddOrleansBusClient(options =>
        {
            options.Endpoints.Add(new Uri(silo.Process.BaseUrl));
            options.Consumer.WaitTime = TimeSpan.FromSeconds(5);
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<BusClient>();

        await using (var producer = client.CreateProducer("di-code"))
            await producer.SendAsync("hello from DI");
        var delivery = await client.PollAsync("di-code", "g");

        Assert.Equal(["hello from DI"], delivery!.MessageStrings);
        await delivery.AckAsync();
    }

    [Fact]
    public void A_configuration_without_endpoints_fails_validation_naming_the_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OrleansBus:Producer:MaxBatchBytes"] = "1",
        }).Build();
        var services = new ServiceCollection();
        services.AddOrleansBusClient(configuration.GetSection("OrleansBus"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<BusClient>());

        Assert.Contains(error.Failures, f => f.StartsWith("Endpoints:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Producer:MaxBatchBytes:", StringComparison.Ordinal));
    }
}
