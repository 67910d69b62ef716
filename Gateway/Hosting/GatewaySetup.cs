using Microsoft.Extensions.Options;
using OrleansBus.Gateway.Api;
using OrleansBus.Gateway.Routing;

namespace OrleansBus.Gateway.Hosting;

/// <summary>Service registration for the gateway: options (validated at start), the Orleans client, the silo directory and its refresher, forwarding, Kestrel limits.</summary>
public static class GatewaySetup
{
    /// <summary>Where the gateway listens unless <c>--urls</c> or <c>ASPNETCORE_URLS</c> say otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8090";

    /// <summary>Registers the gateway's services on <paramref name="builder"/>.</summary>
    public static WebApplicationBuilder AddBusGateway(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The silo enforces MaxRequestBytes with a problem+json body; a cap here would answer first without one.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddOptions<GatewayOptions>()
            .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SiloDirectory>();
        builder.Services.AddSingleton<SiloPicker>();
        builder.Services.AddSingleton<SiloClient>();
        builder.Services.AddSingleton<WriterSets>();
        builder.Services.AddSingleton<ForwardingEndpoint>();
        builder.Services.AddSingleton<ControlEndpoints>();
        builder.Services.AddSingleton<ClusterConnection>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterConnection>());
        builder.Services.AddHostedService<SiloRefresher>();
        return builder;
    }
}
