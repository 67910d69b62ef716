using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansBus.Client;

/// <summary>
/// Registers a singleton <see cref="OrleansBusClient"/> (and <see cref="IBusClient"/>, unless one is registered) on a host
/// that has an Orleans client (<c>UseOrleansClient</c>) or is a silo: the client takes <see cref="IGrainFactory"/> from
/// the container.
/// </summary>
public static class OrleansBusServiceCollectionExtensions
{
    /// <summary>Registers the client, configured in code (or with the defaults).</summary>
    /// <example><code>builder.UseOrleansClient(c => c.UseAdoNetClustering(...)); builder.Services.AddOrleansBus();</code></example>
    public static IServiceCollection AddOrleansBus(this IServiceCollection services, Action<OrleansBusClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<OrleansBusClientOptions>();
        if (configure is not null)
            options.Configure(configure);
        return AddCore(services);
    }

    /// <summary>Registers the client, bound from a configuration section (<c>DefaultDurability</c>, <c>DoorKeys</c>, <c>Producer:*</c>, <c>Consumer:*</c>).</summary>
    public static IServiceCollection AddOrleansBus(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OrleansBusClientOptions>().Bind(configuration);
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddOptions<OrleansBusClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OrleansBusClientOptions>, Validator>());
        services.TryAddSingleton(provider => new OrleansBusClient(
            provider.GetRequiredService<IGrainFactory>(), provider.GetRequiredService<IOptions<OrleansBusClientOptions>>().Value));
        services.TryAddSingleton<IBusClient>(provider => provider.GetRequiredService<OrleansBusClient>());
        return services;
    }

    private sealed class Validator : IValidateOptions<OrleansBusClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, OrleansBusClientOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
