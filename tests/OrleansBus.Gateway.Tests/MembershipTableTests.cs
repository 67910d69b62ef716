using System.Net;
using System.Text.Json;
using Npgsql;
using OrleansBus.Testing;

namespace OrleansBus.Gateway.Tests;

/// <summary>
/// Membership mode against a real PostgreSQL table with the silos' exact schema. The silos' own membership
/// (writing and heartbeating these rows) had not landed when these tests were written, so the tests write the
/// rows themselves, pointing at real silo processes (SQLite metadata) whose ids match the rows: what the gateway
/// reads, routes and reports is real; only the heartbeats are written by the test instead of the silos.
/// </summary>
public sealed class MembershipTableTests
{
    // Exactly the DDL the silos create (another engineer's membership work); the gateway only reads it.
    private static string SilosTable(string schema) => $"""
        CREATE TABLE {schema}.silos (silo_id TEXT PRIMARY KEY, address TEXT NOT NULL, epoch BIGINT NOT NULL,
          started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL, state TEXT NOT NULL)
        """;

    [Fact]
    public async Task Only_live_rows_with_fresh_heartbeats_get_traffic_and_changes_are_picked_up()
    {
        using var dir = new TempDirectory("gw-members");
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("gw_" + Guid.NewGuid().ToString("N")[..16]);
        await ExecuteAsync(connectionString, "CREATE SCHEMA bus");
        await ExecuteAsync(connectionString, SilosTable("bus"));
        await using var s1 = new SiloProcess(dir.Combine("s1", "data"), "s1");
        await using var s2 = new SiloProcess(dir.Combine("s2", "data"), "s2");
        await using var s3 = new SiloProcess(dir.Combine("s3", "data"), "s3");
        await Task.WhenAll(s1.StartAsync(), s2.StartAsync(), s3.StartAsync());
        var now = Now();
        await UpsertAsync(connectionString, "bus", s1, "live", now);
        await UpsertAsync(connectionString, "bus", s2, "live", now);
        await UpsertAsync(connectionString, "bus", s3, "left", now); // clean stop: never routed to
        // DeadAfter of a minute: the test's hand-written heartbeats stay fresh for the whole test.
        await using var gateway = new GatewayProcess(dir.Combine("gw", "work"), new Dictionary<string, string>
        {
            ["PostgresConnectionString"] = connectionString, ["PostgresSchema"] = "bus", ["DeadAfter"] = "00:01:00",
        });
        await gateway.StartAsync();
        await gateway.WaitForLiveSilosAsync(2);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        var keyed = new List<Produced>();
        for (var i = 0; i < 10; i++)
            keyed.Add(await GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "members", Line("k"), key: "tenant-1"));
        Assert.All(keyed, p => Assert.Equal(HttpStatusCode.OK, p.Status));
        Assert.Single(keyed.Select(p => p.Silo).Distinct());
        Assert.All(keyed, p => Assert.Equal(p.Silo, p.ChunkOwner)); // Bus-Silo is the silo id in membership mode
        var spread = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "members", Line("m"))));
        Assert.Equal(["s1", "s2"], spread.Select(p => p.Silo).Distinct().Order());

        // s1's heartbeat goes stale, s3 comes back: the next refreshes move the traffic.
        await UpsertAsync(connectionString, "bus", s1, "live", Now() - 120_000);
        await UpsertAsync(connectionString, "bus", s3, "live", Now());
        await WaitForListingAsync(http, gateway, live => live.SetEquals(["s2", "s3"]));
        var after = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "members", Line("m"))));
        Assert.Equal(["s2", "s3"], after.Select(p => p.Silo).Distinct().Order());
        Assert.All(after, p => Assert.Equal(p.Silo, p.ChunkOwner));
    }

    [Fact]
    public async Task A_missing_table_means_no_live_silo_until_it_exists()
    {
        using var dir = new TempDirectory("gw-notable");
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("gw_" + Guid.NewGuid().ToString("N")[..16]);
        await using var silo = new SiloProcess(dir.Combine("s1", "data"), "s1");
        await silo.StartAsync();
        await using var gateway = new GatewayProcess(dir.Combine("gw", "work"), new Dictionary<string, string> { ["PostgresConnectionString"] = connectionString });
        await gateway.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        await WaitForAsync(() => gateway.LogTail().Contains("does not exist yet", StringComparison.Ordinal), "the gateway never logged the missing table", gateway);
        using (var ready = await http.GetAsync(new Uri(gateway.BaseUrl + "/health/ready")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("no_live_silo", (await GatewayCluster.ProblemAsync(ready)).Code);
        }

        await ExecuteAsync(connectionString, SilosTable("public"));
        await UpsertAsync(connectionString, "public", silo, "live", Now());
        await gateway.WaitForLiveSilosAsync(1);
        var produced = await GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "late", Line("m"));
        Assert.Equal((HttpStatusCode.OK, "s1", "s1"), (produced.Status, produced.Silo, produced.ChunkOwner));
    }

    [Fact]
    public async Task While_the_database_is_down_the_last_known_silos_that_answer_keep_serving()
    {
        using var dir = new TempDirectory("gw-dbdown");
        await using var server = await PostgresServer.StartNewAsync();
        var connectionString = await server.CreateDatabaseAsync("members");
        await ExecuteAsync(connectionString, SilosTable("public"));
        await using var s1 = new SiloProcess(dir.Combine("s1", "data"), "s1");
        await using var s2 = new SiloProcess(dir.Combine("s2", "data"), "s2");
        await Task.WhenAll(s1.StartAsync(), s2.StartAsync());
        await UpsertAsync(connectionString, "public", s1, "live", Now());
        await UpsertAsync(connectionString, "public", s2, "live", Now());
        await using var gateway = new GatewayProcess(dir.Combine("gw", "work"), new Dictionary<string, string>
        {
            ["PostgresConnectionString"] = connectionString, ["DeadAfter"] = "00:01:00",
        });
        await gateway.StartAsync();
        await gateway.WaitForLiveSilosAsync(2);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        await server.StopAsync();
        await WaitForAsync(() => gateway.LogTail().Contains("Cannot read membership table", StringComparison.Ordinal), "the gateway never noticed the database was down", gateway);
        var during = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "outage", Line("m"))));
        Assert.Equal(["s1", "s2"], during.Select(p => p.Silo).Distinct().Order());

        // With the table unreadable, the probes are what notice a silo dying.
        await s1.KillAsync();
        await WaitForListingAsync(http, gateway, live => live.SetEquals(["s2"]));
        var afterKill = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => GatewayCluster.ProduceAsync(http, gateway.BaseUrl, "outage", Line("m"))));
        Assert.All(afterKill, p => Assert.Equal((HttpStatusCode.OK, "s2"), (p.Status, p.Silo)));
    }

    private static byte[] Line(string text) => System.Text.Encoding.UTF8.GetBytes(text + "\n");

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task UpsertAsync(string connectionString, string schema, SiloProcess silo, string state, long heartbeatAtMs)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"""
            INSERT INTO {schema}.silos (silo_id, address, epoch, started_at, heartbeat_at, state) VALUES (@id, @address, 1, @now, @heartbeat, @state)
            ON CONFLICT (silo_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, state = EXCLUDED.state
            """, connection);
        command.Parameters.AddWithValue("id", silo.SiloId);
        command.Parameters.AddWithValue("address", silo.BaseUrl);
        command.Parameters.AddWithValue("now", Now());
        command.Parameters.AddWithValue("heartbeat", heartbeatAtMs);
        command.Parameters.AddWithValue("state", state);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task WaitForListingAsync(HttpClient http, GatewayProcess gateway, Func<HashSet<string>, bool> condition)
    {
        var last = "";
        for (var i = 0; i < 200; i++)
        {
            last = await http.GetStringAsync(new Uri(gateway.BaseUrl + "/gateway/silos"));
            var live = JsonDocument.Parse(last).RootElement.EnumerateArray()
                .Where(s => s.GetProperty("live").GetBoolean()).Select(s => s.GetProperty("id").GetString()!).ToHashSet();
            if (condition(live))
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"The gateway's silo listing never reached the expected live set within 20 s; last: {last}\n{gateway.LogTail()}");
    }

    private static async Task WaitForAsync(Func<bool> condition, string never, GatewayProcess gateway)
    {
        for (var i = 0; i < 200 && !condition(); i++)
            await Task.Delay(100);
        Assert.True(condition(), $"Within 20 s {never}. Log:\n{gateway.LogTail()}");
    }
}
