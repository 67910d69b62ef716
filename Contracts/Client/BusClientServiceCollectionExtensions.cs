using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansBus.Client;

/// <summary>
/// Registers a singleton <see cref="BusClient"/> with its options (validated on start) and a named
/// <see cref="HttpClient"/> (<see cref="BusClient.HttpClientName"/>) from <see cref="IHttpClientFactory"/>, whose primary
/// handler is a <see cref="SocketsHttpHandler"/> without proxy. Add handlers (auth, logging) to that named client.
/// </summary>
public static class BusClientServiceCollectionExtensions
{
    /// <summary>Registers the client, configured in code.</summary>
    /// <example><code>services.AddOrleansBusClient(o => o.Endpoints.Add(new Uri("http://127.0.0.1:8080")));</code></example>
    public static IServiceCollection AddOrleansBusClient(this IServiceCollection services, Action<BusClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<BusClientOptions>().Configure(configure);
        return AddCore(services);
    }

    /// <summary>
    /// Registers the client, bound from a configuration section, by convention <c>OrleansBus</c>
    /// (<see cref="BusClientOptions.SectionName"/>): <c>Endpoints:0</c>, <c>Endpoints:1</c>, <c>DefaultDurability</c>,
    /// <c>RequestTimeout</c>, <c>Producer:LingerTime</c>, <c>Producer:MaxBatchBytes</c>, <c>Consumer:WaitTime</c>, ...
    /// </summary>
    /// <example><code>services.AddOrleansBusClient(builder.Configuration.GetSection("OrleansBus"));</code></example>
    public static IServiceCollection AddOrleansBusClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<BusClientOptions>().Bind(configuration);
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddOptions<BusClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BusClientOptions>, BusClientOptionsValidator>());
        services.AddHttpClient(BusClient.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => BusClient.CreateHandler(provider.GetRequiredService<IOptions<BusClientOptions>>().Value));
        services.TryAddSingleton(provider => new BusClient(
            provider.GetRequiredService<IOptions<BusClientOptions>>().Value,
            provider.GetRequiredService<IHttpClientFactory>()));
        services.TryAddSingleton<IBusClient>(provider => provider.GetRequiredService<BusClient>());
        return services;
    }

    private sealed class BusClientOptionsValidator : IValidateOptions<BusClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, BusClientOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
