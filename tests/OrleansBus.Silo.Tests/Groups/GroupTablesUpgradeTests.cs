using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using OrleansBus.Contracts;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Tests.Api;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Groups;

/// <summary>
/// Upgrading a silo whose database was made by the version that kept consumer groups in tables: the groups' offsets
/// move into grain state at the first start, consumption continues where it stood, and the tables are gone.
/// </summary>
public sealed class GroupTablesUpgradeTests
{
    private const string Category = "upgrade";

    [Fact]
    public async Task Offsets_kept_in_the_old_group_tables_are_where_consumption_continues_and_the_tables_go()
    {
        using var dir = new TempDirectory("group-upgrade");
        var dataDir = dir.Combine("data");
        string chunk;
        await using (var before = SiloApiFactory.OnDataDir(dataDir))
        {
            var produced = await SiloHttp.ProduceAsync(before.CreateClient(), Category, string.Concat(Enumerable.Range(0, 10).Select(i => $"m{i}\n")));
            chunk = produced.Chunk;
        }

        // The previous version's tables and rows: "billing" acknowledged 4 messages (12 bytes) and holds an expired
        // lease; "audit" finished the chunk. A row's position is its chunk's creation time.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "metadata.db")};Pooling=False"))
        {
            await db.OpenAsync();
            await using var created = db.CreateCommand();
            created.CommandText = $"SELECT created_at FROM chunks WHERE name = '{chunk}'";
            var position = (long)(await created.ExecuteScalarAsync())!;
            await using var command = db.CreateCommand();
            command.CommandText = LegacyGroupTables.Migration + $"""
                ALTER TABLE group_chunks ADD COLUMN applied_seek INTEGER NOT NULL DEFAULT -1;
                INSERT INTO consumer_groups VALUES ('billing', '{Category}', {now - 5000}, 0, 'earliest', {now - 5000});
                INSERT INTO consumer_groups VALUES ('audit', '{Category}', {now - 9000}, 0, 'earliest', {now - 9000});
                INSERT INTO group_watermarks VALUES ('billing', '{Category}', 'silo1', 1, 0);
                INSERT INTO group_chunks VALUES ('billing', '{Category}', '{chunk}', {position}, 12, 4, 0, 'old', 'w1', 21, {now - 100}, 12, 1, 0, NULL, 3, 0);
                INSERT INTO group_chunks VALUES ('audit', '{Category}', '{chunk}', {position}, 30, 10, 1, NULL, NULL, 30, 0, 30, 0, 0, NULL, 0, 0);
                """;
            await command.ExecuteNonQueryAsync();
        }

        await using var after = SiloApiFactory.OnDataDir(dataDir);
        var client = after.CreateClient();
        using (var poll = await client.PostAsync($"/v1/categories/{Category}/groups/billing/poll?max_messages=100", null))
        {
            await SiloHttp.AssertStatusAsync(poll, HttpStatusCode.OK);
            Assert.Equal("m4\nm5\nm6\nm7\nm8\nm9\n", await poll.Content.ReadAsStringAsync());
            Assert.Equal("12", poll.Headers.GetValues(BusHeaders.Offset).Single());
        }
        using (var poll = await client.PostAsync($"/v1/categories/{Category}/groups/audit/poll", null))
            await SiloHttp.AssertStatusAsync(poll, HttpStatusCode.NoContent); // finished before the upgrade: nothing again
        var status = await client.GetFromJsonAsync<GroupInfo>($"/v1/categories/{Category}/groups/billing");
        Assert.Equal(6, status!.LagMessages);

        await using var check = new SqliteConnection($"Data Source={Path.Combine(dataDir, "metadata.db")};Pooling=False");
        await check.OpenAsync();
        await using var tables = check.CreateCommand();
        tables.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('consumer_groups', 'group_watermarks', 'group_chunks')";
        Assert.Equal(0L, (long)(await tables.ExecuteScalarAsync())!);
    }
}
