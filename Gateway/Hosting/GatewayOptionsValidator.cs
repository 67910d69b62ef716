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
        if (string.IsNullOrWhiteSpace(options.PostgresConnectionString))
        {
            failures.Add("Gateway:PostgresConnectionString is not set: the gateway joins the silos' Orleans cluster through their PostgreSQL "
                + "(the silos' Bus:PostgresConnectionString, e.g. --Gateway:PostgresConnectionString=\"Host=127.0.0.1;Username=postgres;Database=orleansbus\").");
        }
        else
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
        if (options.SiloResponseTimeout <= TimeSpan.Zero)
            failures.Add("Gateway:SiloResponseTimeout must be positive.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Same rule as the silo's Bus:PostgresSchema: the name is spliced into SQL, so only plain identifiers pass.
    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
