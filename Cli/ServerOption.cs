using System.CommandLine;
using OrleansBus.Client;

namespace OrleansBus.Cli;

/// <summary>
/// The global <c>--server</c> option (also <c>$OBUS_SERVER</c>): one or more silo or gateway URLs, repeated or
/// comma-separated, tried in order with failover. A bare <c>host:port</c> means <c>http://host:port</c>.
/// </summary>
internal static class ServerOption
{
    public const string EnvironmentVariable = "OBUS_SERVER";
    public const string DefaultServer = "http://127.0.0.1:8080";

    public static readonly Option<string[]> Option = new("--server", "-s")
    {
        Description = $"Silo or gateway URL; repeat it or separate URLs with commas for failover [default: ${EnvironmentVariable}, else {DefaultServer}]",
        HelpName = "url",
        Recursive = true,
    };

    /// <summary>The servers named on the command line, else in <c>$OBUS_SERVER</c>, else the default.</summary>
    public static IReadOnlyList<Uri> Endpoints(ParseResult parse)
    {
        var given = parse.GetValue(Option);
        IEnumerable<string> raw = given is { Length: > 0 }
            ? given
            : [Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer];
        var endpoints = new List<Uri>();
        foreach (var value in raw)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var text = part.Contains("://", StringComparison.Ordinal) ? part : "http://" + part;
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                    throw new UsageException($"--server '{part}' is not an http:// or https:// URL.");
                endpoints.Add(uri);
            }
        }
        if (endpoints.Count == 0)
            throw new UsageException("--server names no URL.");
        return endpoints;
    }

    /// <summary>A client for the chosen servers, with the given producer and consumer defaults.</summary>
    public static BusClient CreateClient(ParseResult parse, Action<BusClientOptions>? configure = null)
    {
        var options = new BusClientOptions();
        foreach (var endpoint in Endpoints(parse))
            options.Endpoints.Add(endpoint);
        configure?.Invoke(options);
        return new BusClient(options);
    }
}
