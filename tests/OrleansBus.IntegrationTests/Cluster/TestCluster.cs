using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;
using Npgsql;
using OrleansBus.Contracts;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// The cluster tests start several silos each and depend on failure detection in seconds (Orleans membership tuned
/// that way): run them one at a time, after the parallel classes, so a CPU-starved silo on 2 cores is never mistaken
/// for a dead one.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster processes";
}

/// <summary>What a cluster test needs besides the silo count.</summary>
internal sealed record ClusterShape
{
    /// <summary>Extra silo settings (a key without ':' becomes <c>--Bus:Key</c>), on top of the short timings.</summary>
    public Dictionary<string, string> Settings { get; init; } = [];

    /// <summary>Start Azurite and give every silo the blob archive in its own container.</summary>
    public bool Azurite { get; init; }

    /// <summary>Start the gateway (cluster mode: an Orleans client) in front of the silos.</summary>
    public bool Gateway { get; init; }

    /// <summary>A private PostgreSQL server to stop and restart (the test disposes it); the shared one by default.</summary>
    public PostgresServer? Postgres { get; init; }
}

/// <summary>One silo as <c>GET /cluster/v1/members</c> shows it.</summary>
internal sealed record Member(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("epoch")] long Epoch,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("live")] bool Live,
    [property: JsonPropertyName("self")] bool Self);

/// <summary>A row of Orleans' membership table (ours: <c>orleans_membership</c>); status 3 is Active, 6 is Dead.</summary>
internal sealed record OrleansRow(string SiloName, int Port, long Generation, int Status)
{
    public const int Active = 3;
    public const int Dead = 6;
}

/// <summary>A row of the shared chunk catalog (table <c>chunks</c>), read straight from PostgreSQL.</summary>
internal sealed record CatalogRow(string Name, string Owner, string State, long Size, long Messages, string? SealedBy);

/// <summary>
/// N silo processes (ids s1..sN) in cluster mode on their own PostgreSQL database (schema <c>bus</c>: Orleans membership
/// and the catalog), with short timings (replicas seal 4 s after Orleans declares an owner dead), optionally Azurite as
/// the archive and a gateway (an Orleans client of the same cluster). Helpers read the members, the catalog and the chunk lists, and wait for
/// conditions with a bounded timeout whose failure names what never happened and carries every process's log tail.
/// Not thread-safe for starting and stopping; the HTTP helpers are.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    public const string Schema = "bus";
    public static readonly TimeSpan OwnerDeadAfter = TimeSpan.FromSeconds(4);

    private readonly TempDirectory _dir;

    private TestCluster(TempDirectory dir, PostgresServer postgres, string connectionString)
    {
        _dir = dir;
        Postgres = postgres;
        ConnectionString = connectionString;
    }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public PostgresServer Postgres { get; }
    public string ConnectionString { get; }
    public AzuriteServer? Azurite { get; private set; }
    public string Container { get; } = "c" + Guid.NewGuid().ToString("N")[..12];
    public SiloProcess[] Silos { get; private set; } = [];
    public GatewayProcess? Gateway { get; private set; }

    public string GatewayUrl => Gateway?.BaseUrl ?? throw new InvalidOperationException("This cluster has no gateway.");

    public SiloProcess this[string siloId] => Silos.Single(s => s.SiloId == siloId);

    public static async Task<TestCluster> StartAsync(string name, int silos, ClusterShape? shape = null)
    {
        shape ??= new ClusterShape();
        var dir = new TempDirectory("cluster-" + name);
        var postgres = shape.Postgres ?? await PostgresServer.SharedAsync();
        var connectionString = await postgres.CreateDatabaseAsync("cluster_" + Guid.NewGuid().ToString("N")[..16]);
        var cluster = new TestCluster(dir, postgres, connectionString);
        try
        {
            if (shape.Azurite)
                cluster.Azurite = await AzuriteServer.StartNewAsync();
            cluster.Silos = Enumerable.Range(1, silos)
                .Select(i => new SiloProcess(dir.Combine($"s{i}", "data"), $"s{i}", cluster.SiloSettings(shape.Settings)))
                .ToArray();
            // One at a time: the first creates the schema, and parallel JIT on 2 cores only makes each start slower.
            foreach (var silo in cluster.Silos)
                await silo.StartAsync();
            await cluster.WaitForMembersAsync(cluster.Silos, TimeSpan.FromSeconds(20));
            if (shape.Gateway)
            {
                cluster.Gateway = new GatewayProcess(dir.Combine("gw", "work"), new Dictionary<string, string>
                {
                    ["PostgresConnectionString"] = connectionString,
                    ["PostgresSchema"] = Schema,
                    ["RefreshInterval"] = "00:00:00.500",
                    ["DeadAfter"] = "00:00:03",
                });
                await cluster.Gateway.StartAsync();
                await cluster.Gateway.WaitForLiveSilosAsync(silos);
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private Dictionary<string, string> SiloSettings(Dictionary<string, string> extra)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Metadata"] = "postgres",
            ["PostgresConnectionString"] = ConnectionString,
            ["PostgresSchema"] = Schema,
            ["OwnerDeadAfter"] = OwnerDeadAfter.ToString("c"),
            ["ReplicationFactor"] = "2",
            ["ReplicationTimeout"] = "00:00:05",
            ["SealCheckInterval"] = "00:00:00.100",
            // Request lines would drown the cluster's own lines in the log tails of failure messages.
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        };
        if (Azurite is { } azurite)
        {
            settings["Bus:Archive:Kind"] = "blob";
            settings["Bus:Archive:Blob:ServiceUri"] = azurite.BlobEndpoint;
            settings["Bus:Archive:Blob:AccountName"] = AzuriteServer.AccountName;
            settings["Bus:Archive:Blob:AccountKey"] = AzuriteServer.AccountKey;
            settings["Bus:Archive:Blob:Container"] = Container;
            settings["Bus:Archive:Blob:ConnectTimeout"] = "00:00:02";
            settings["Bus:Archive:Blob:RequestTimeout"] = "00:00:10";
        }
        foreach (var (key, value) in extra)
            settings[key] = value;
        return settings;
    }

    /// <summary>The owner's own file of a chunk: <c>&lt;DataDir&gt;/categories/&lt;c&gt;/&lt;chunk&gt;</c>.</summary>
    public static string LocalFile(SiloProcess silo, string category, string chunk) => Path.Combine(silo.DataDir, "categories", category, chunk);

    /// <summary>The owner id of a chunk name <c>&lt;owner&gt;-chunk&lt;seq&gt;</c>.</summary>
    public static string OwnerOf(string chunk) => chunk[..chunk.LastIndexOf("-chunk", StringComparison.Ordinal)];

    public async Task<ChunkInfo[]> ChunksAsync(string baseUrl, string category)
    {
        using var response = await Http.GetAsync(new Uri($"{baseUrl}/v1/categories/{category}/chunks"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new Xunit.Sdk.XunitException($"GET chunks of {category} on {baseUrl} answered {(int)response.StatusCode}: {body}\n{Logs()}");
        return System.Text.Json.JsonSerializer.Deserialize<ChunkInfo[]>(body)!;
    }

    public async Task<Member[]> MembersAsync(SiloProcess silo) =>
        (await Http.GetFromJsonAsync<Member[]>(new Uri($"{silo.BaseUrl}/cluster/v1/members")))!;

    /// <summary>Every byte of a chunk through the raw read of <paramref name="baseUrl"/>, following Bus-Next-Offset.</summary>
    public async Task<byte[]> ReadChunkAsync(string baseUrl, string category, string chunk, long size)
    {
        using var all = new MemoryStream();
        long offset = 0;
        for (var reads = 0; offset < size; reads++)
        {
            Assert.True(reads < 10_000, $"Reading {category}/{chunk} from {baseUrl} did not reach {size} bytes.");
            using var response = await Http.GetAsync(new Uri($"{baseUrl}/v1/categories/{category}/chunks/{chunk}?offset={offset}&max_bytes=1048576"));
            var body = await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new Xunit.Sdk.XunitException(
                    $"Raw read of {category}/{chunk} at {offset} on {baseUrl} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}\n{Logs()}");
            }
            all.Write(body);
            offset = long.Parse(response.Headers.GetValues(BusHeaders.NextOffset).Single(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return all.ToArray();
    }

    /// <summary>The catalog rows of a category, from PostgreSQL itself (not through a silo).</summary>
    public async Task<CatalogRow[]> CatalogAsync(string category)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT name, owner, state, size, messages, sealed_by FROM {Schema}.chunks WHERE category = @c ORDER BY name", connection);
        command.Parameters.AddWithValue("c", category);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<CatalogRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new CatalogRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
        return [.. rows];
    }

    /// <summary>The rows <paramref name="sql"/> counts (<c>@c</c> is <paramref name="category"/>), from PostgreSQL itself.</summary>
    public async Task<long> CountAsync(string sql, string category)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false;Search Path=" + Schema);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("c", category);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The silos recorded as replicas of <paramref name="chunk"/>, from PostgreSQL itself.</summary>
    public async Task<string[]> ReplicasAsync(string category, string chunk)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT silo FROM {Schema}.chunk_replicas WHERE category = @c AND chunk = @chunk ORDER BY silo", connection);
        command.Parameters.AddWithValue("c", category);
        command.Parameters.AddWithValue("chunk", chunk);
        await using var reader = await command.ExecuteReaderAsync();
        var silos = new List<string>();
        while (await reader.ReadAsync())
            silos.Add(reader.GetString(0));
        return [.. silos];
    }

    /// <summary>Orleans' membership rows of this cluster, from PostgreSQL itself.</summary>
    public async Task<OrleansRow[]> OrleansMembershipAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT silo_name, port, generation, status FROM {Schema}.orleans_membership ORDER BY silo_name, generation", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<OrleansRow>();
        while (await reader.ReadAsync())
            rows.Add(new OrleansRow(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)));
        return [.. rows];
    }

    /// <summary>Waits until every given silo lists all of them as live (so replicas can be chosen among them).</summary>
    public Task WaitForMembersAsync(IReadOnlyList<SiloProcess> silos, TimeSpan timeout) =>
        WaitUntilAsync(async () =>
        {
            foreach (var silo in silos)
            {
                var members = await MembersAsync(silo);
                if (silos.Any(s => !members.Any(m => m.Id == s.SiloId && m.Live)))
                    return false;
            }
            return true;
        }, $"every one of {string.Join(", ", silos.Select(s => s.SiloId))} seeing all of them live in /cluster/v1/members", timeout);

    /// <summary>
    /// Polls <paramref name="probe"/> (every 100 ms) until it returns a value; transient HTTP and database errors count
    /// as "not yet". Fails with <paramref name="what"/>, the last error and every log tail.
    /// </summary>
    public async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout) where T : class
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            try
            {
                if (await probe() is { } value)
                    return value;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or NpgsqlException or System.Net.Sockets.SocketException)
            {
                last = $" Last error: {e.GetType().Name}: {e.Message}.";
            }
            if (clock.Elapsed > timeout)
                throw new Xunit.Sdk.XunitException($"Waited {timeout.TotalSeconds:0} s for {what}; it never happened.{last}\n{Logs()}");
            await Task.Delay(100);
        }
    }

    public Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout) =>
        WaitForAsync(async () => await condition() ? "done" : null, what, timeout);

    /// <summary>The last lines of every silo's (and the gateway's) log, for failure messages.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var silo in Silos)
            text.Append("---- ").Append(silo.SiloId).Append(" (").Append(silo.LogPath).Append(") ----\n").Append(Tail(silo.LogTail(), 40)).Append('\n');
        if (Gateway is { } gateway)
            text.Append("---- gateway (").Append(gateway.LogPath).Append(") ----\n").Append(Tail(gateway.LogTail(), 20)).Append('\n');
        return text.ToString();
    }

    private static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
            await Gateway.DisposeAsync();
        foreach (var silo in Silos)
            await silo.DisposeAsync();
        if (Azurite is not null)
            await Azurite.DisposeAsync();
        Http.Dispose();
        _dir.Dispose();
    }
}
