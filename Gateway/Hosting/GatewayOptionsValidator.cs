using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace OrleansBus.Gateway.Hosting;

/// <summary>
/// Checks <see cref="GatewayOptions"/> at start (ValidateOnStart): every failure names its key, so a bad
/// setting stops the host with a message an operator can act on instead of a gateway that routes nowhere.
/// </summary>
internal sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        var hasStatic = !string.IsNullOrWhiteSpace(options.Silos);
        var hasMembership = !string.IsNullOrWhiteSpace(options.PostgresConnectionString);
        if (hasStatic == hasMembership)
        {
            failures.Add("Set exactly one of Gateway:Silos (comma-separated silo base URLs) or Gateway:PostgresConnectionString (the silos' membership table); "
                + (hasStatic ? "both are set." : "neither is set."));
        }
        if (hasStatic)
        {
            var urls = options.SiloUrls();
            if (urls.Count == 0)
                failures.Add("Gateway:Silos lists no URL.");
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || uri.PathAndQuery != "/")
                {
                    failures.Add($"Gateway:Silos entry '{url}' is not a base URL like http://127.0.0.1:8081.");
                }
            }
        }
        if (hasMembership)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(options.PostgresConnectionString);
            }
            catch (ArgumentException e)
            {
                failures.Add($"Gateway:PostgresConnectionString is not a valid connection string: {e.Message}");
            }
        }
        if (!SchemaName().IsMatch(options.PostgresSchema ?? ""))
            failures.Add($"Gateway:PostgresSchema '{options.PostgresSchema}' must match ^[a-z_][a-z0-9_]{{0,62}}$.");
        if (options.RefreshInterval <= TimeSpan.Zero)
            failures.Add("Gateway:RefreshInterval must be positive.");
        if (options.DeadAfter <= TimeSpan.Zero)
            failures.Add("Gateway:DeadAfter must be positive.");
        if (options.ConnectTimeout <= TimeSpan.Zero)
            failures.Add("Gateway:ConnectTimeout must be positive.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Same rule as the silo's Bus:PostgresSchema: the name is spliced into SQL, so only plain identifiers pass.
    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
