using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Groups;

/// <summary>The metadata store a silo keeps consumer groups in.</summary>
public enum MetadataBackend
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A silo process plus an HTTP client for its group API. Settings come from <see cref="MetadataSettingsAsync"/>
/// so every test gets its own metadata: SQLite in its own data directory, or its own PostgreSQL database.
/// </summary>
internal sealed class GroupSilo : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private GroupSilo(SiloProcess process)
    {
        Process = process;
        Api = new GroupApi(_http, process.BaseUrl, process.LogPath);
    }

    public SiloProcess Process { get; }
    public GroupApi Api { get; }

    public static async Task<GroupSilo> StartAsync(string dataDir, string siloId, IReadOnlyDictionary<string, string> settings)
    {
        var silo = new GroupSilo(new SiloProcess(dataDir, siloId, settings));
        try
        {
            await silo.Process.StartAsync();
            return silo;
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Silo settings for <paramref name="backend"/>; for PostgreSQL a new database on the shared test server
    /// (so nothing is shared with another test), with the tables in schema <c>bus</c>.
    /// </summary>
    public static async Task<Dictionary<string, string>> MetadataSettingsAsync(MetadataBackend backend, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (backend == MetadataBackend.Postgres)
        {
            var server = await PostgresServer.SharedAsync();
            settings["Metadata"] = "postgres";
            settings["PostgresConnectionString"] = await server.CreateDatabaseAsync("groups_" + Guid.NewGuid().ToString("N")[..16]);
            settings["PostgresSchema"] = "bus";
        }
        foreach (var (key, value) in extra)
            settings[key] = value;
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _http.Dispose();
    }
}
