using OrleansBus.Contracts;
using OrleansBus.IntegrationTests.Client;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cli;

/// <summary>
/// The <c>obus</c> CLI as separate processes against a real silo process: stdin to a category and back to stdout
/// byte for byte, --count, the lag table, exit codes and help.
/// </summary>
public sealed class ObusCliTests(ClientSilo silo) : IClassFixture<ClientSilo>
{
    private string Server => silo.Process.BaseUrl;

    [Fact]
    public async Task Produce_of_a_100000_line_file_then_consume_to_a_file_gives_back_the_same_bytes_and_lag_0()
    {
        using var dir = new TempDirectory("cli");
        var input = LinesFile.Create(100_000);
        await File.WriteAllBytesAsync(dir.Combine("words.txt"), input);
        await using (var client = silo.NewClient()) // small chunks, so the data spans several and order across chunks is tested too
            await client.PutCategoryAsync("words", new CategorySettingsUpdate(MaxChunkBytes: 512 * 1024, MaxChunkAgeMs: null, DefaultDurability: null));

        // Exactly as a user types it, with shell redirections.
        var run = await Obus.ShellAsync(dir.Path, Server, "obus produce words < words.txt; obus consume words --group g > out.txt");

        Assert.True(run.ExitCode == 0, run.ToString());
        var output = await File.ReadAllBytesAsync(dir.Combine("out.txt"));
        Assert.Equal(input.Length, output.Length);
        Assert.True(input.AsSpan().SequenceEqual(output), $"out.txt differs from words.txt first at byte {input.AsSpan().CommonPrefixLength(output)}.");

        var chunks = await Obus.RunAsync(Server, null, "chunks", "words");
        Assert.True(chunks.ExitCode == 0, chunks.ToString());
        Assert.True(chunks.Stdout.Split('\n').Count(l => l.Contains("-chunk", StringComparison.Ordinal)) >= 3, $"Expected several chunks:\n{chunks.Stdout}");
        var group = await Obus.RunAsync(Server, null, "group", "words", "g");
        Assert.True(group.ExitCode == 0, group.ToString());
        Assert.Contains("lag 0 messages, 0 bytes", group.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_with_count_writes_exactly_that_many_lines_and_the_group_keeps_the_rest()
    {
        var lines = string.Concat(Enumerable.Range(1, 10).Select(n => $"item {n}\n"));
        var produce = await Obus.RunAsync(Server, lines, "produce", "counted", "--durability", "fsync");
        Assert.True(produce.ExitCode == 0, produce.ToString());

        var first = await Obus.RunAsync(Server, null, "consume", "counted", "--group", "g", "--count", "3");
        var lag = await Obus.RunAsync(Server, null, "group", "counted", "g", "--json");
        var rest = await Obus.RunAsync(Server, null, "consume", "counted", "-g", "g");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("item 1\nitem 2\nitem 3\n", first.Stdout);
        Assert.Contains("\"lagMessages\": 7", lag.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Concat(Enumerable.Range(4, 7).Select(n => $"item {n}\n")), rest.Stdout);
        Assert.Equal(0, rest.ExitCode);
    }

    [Fact]
    public async Task Consume_into_a_pipe_its_reader_closed_acknowledges_nothing_it_could_not_write()
    {
        using var dir = new TempDirectory("cli");
        await File.WriteAllBytesAsync(dir.Combine("many.txt"), LinesFile.Create(50_000)); // ~1.3 MB: far more than a pipe holds
        var produce = await Obus.ShellAsync(dir.Path, Server, "obus produce piped < many.txt");
        Assert.True(produce.ExitCode == 0, produce.ToString());

        var run = await Obus.ShellAsync(dir.Path, Server, "obus consume piped --group g | head -n 1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("line 000000 alpha\n", run.Stdout);
        var lag = await Obus.RunAsync(Server, null, "group", "piped", "g", "--json");
        Assert.True(lag.Stdout.Contains("\"lagMessages\": 50000", StringComparison.Ordinal),
            $"Lines that never reached a reader were acknowledged:\n{lag.Stdout}");
    }

    [Fact]
    public async Task Consume_from_latest_creates_the_group_at_the_end_and_exits_when_caught_up()
    {
        Assert.Equal(0, (await Obus.RunAsync(Server, "history\n", "produce", "late-joiners")).ExitCode);

        var tail = await Obus.RunAsync(Server, null, "consume", "late-joiners", "--group", "tail", "--from", "latest");
        Assert.Equal(0, (await Obus.RunAsync(Server, "fresh\n", "produce", "late-joiners")).ExitCode);
        var next = await Obus.RunAsync(Server, null, "consume", "late-joiners", "--group", "tail");

        Assert.Equal((0, ""), (tail.ExitCode, tail.Stdout));
        Assert.Equal((0, "fresh\n"), (next.ExitCode, next.Stdout));
    }

    [Fact]
    public async Task Categories_create_and_set_take_human_units_and_the_listing_shows_them()
    {
        var created = await Obus.RunAsync(Server, null, "categories", "create", "audit",
            "--retention", "7d", "--retention-bytes", "10GiB", "--max-chunk", "64MiB", "--durability", "fsync");
        var changed = await Obus.RunAsync(Server, null, "categories", "set", "audit", "--retention", "forever", "--max-chunk-age", "90s");
        var listed = await Obus.RunAsync(Server, null, "categories", "--json");
        var table = await Obus.RunAsync(Server, null, "categories");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("retention 7.00:00:00, 10737418240 bytes", created.Stdout, StringComparison.Ordinal);
        Assert.True(changed.ExitCode == 0, changed.ToString());
        var audit = System.Text.Json.JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "audit");
        Assert.Equal((0L, 10737418240L, 67108864L, 90000L, "fsync"), (audit.GetProperty("retentionMs").GetInt64(), audit.GetProperty("retentionBytes").GetInt64(),
            audit.GetProperty("maxChunkBytes").GetInt64(), audit.GetProperty("maxChunkAgeMs").GetInt64(), audit.GetProperty("defaultDurability").GetString()));
        Assert.Contains(table.Stdout.Split('\n'), line => line.StartsWith("audit ", StringComparison.Ordinal) && line.Contains("forever", StringComparison.Ordinal)
            && line.TrimEnd().EndsWith("10737418240", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Categories_delete_needs_yes_from_a_script_then_waits_until_the_category_is_gone()
    {
        Assert.Equal(0, (await Obus.RunAsync(Server, "one\ntwo\n", "produce", "scrap")).ExitCode);

        var unconfirmed = await Obus.RunAsync(Server, null, "categories", "delete", "scrap");
        var stillThere = await Obus.RunAsync(Server, null, "chunks", "scrap");
        var deleted = await Obus.RunAsync(Server, null, "categories", "delete", "scrap", "--yes");
        var gone = await Obus.RunAsync(Server, null, "chunks", "scrap");
        var unknown = await Obus.RunAsync(Server, null, "categories", "delete", "scrap", "--yes");

        Assert.True(unconfirmed.ExitCode == 2, unconfirmed.ToString());
        Assert.Contains("scrap was not deleted: confirm by typing its name, or add --yes", unconfirmed.Stderr, StringComparison.Ordinal);
        Assert.True(stillThere.ExitCode == 0, stillThere.ToString());
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains("scrap: deleting (1 chunks and 0 groups left", deleted.Stdout, StringComparison.Ordinal);
        Assert.Contains("scrap: deleted", deleted.Stdout, StringComparison.Ordinal);
        Assert.True(gone.ExitCode == 1, gone.ToString());
        Assert.Contains(BusErrorCodes.CategoryNotFound, gone.Stderr, StringComparison.Ordinal);
        Assert.True(unknown.ExitCode == 1, unknown.ToString());
        Assert.Contains(BusErrorCodes.CategoryNotFound, unknown.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--retention", "7x", "is not a duration such as 7d")]
    [InlineData("--retention-bytes", "10 GiBs", "is not a size such as 64MiB")]
    [InlineData("--max-chunk", "0.5B", "is not a size such as 64MiB")]
    public async Task A_setting_in_unknown_units_exits_2_and_changes_nothing(string option, string value, string expected)
    {
        Assert.Equal(0, (await Obus.RunAsync(Server, null, "categories", "create", "units", "--retention", "1d")).ExitCode);

        var refused = await Obus.RunAsync(Server, null, "categories", "set", "units", option, value);

        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains($"{option}: '{value}' {expected}", refused.Stderr, StringComparison.Ordinal);
        var listed = await Obus.RunAsync(Server, null, "categories", "--json");
        Assert.Contains("\"retentionMs\": 86400000", listed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_category_name_exits_1_with_the_problem_detail_on_stderr()
    {
        var produce = await Obus.RunAsync(Server, "x\n", "produce", "Not/A Name");
        var chunks = await Obus.RunAsync(Server, null, "chunks", "UPPER");

        Assert.Equal(1, produce.ExitCode);
        Assert.Contains(BusErrorCodes.InvalidCategoryName, produce.Stderr, StringComparison.Ordinal);
        Assert.Contains("^[a-z0-9][a-z0-9._-]{0,127}$", produce.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, chunks.ExitCode);
        Assert.Contains(BusErrorCodes.InvalidCategoryName, chunks.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_refusals_exit_1_with_their_code()
    {
        var unknownCategory = await Obus.RunAsync(Server, null, "chunks", "nobody-wrote-this");
        var unknownGroup = await Obus.RunAsync(Server, null, "consume", "nobody-wrote-this", "--group", "g");

        Assert.Equal(1, unknownCategory.ExitCode);
        Assert.Contains("404 " + BusErrorCodes.CategoryNotFound, unknownCategory.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, unknownGroup.ExitCode);
        Assert.Contains(BusErrorCodes.CategoryNotFound, unknownGroup.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_exits_3()
    {
        var dead = $"127.0.0.1:{FreePort.Get()}";

        var categories = await Obus.RunAsync(null, null, "categories", "--server", dead);
        var produce = await Obus.RunAsync(dead, "x\n", "produce", "anything");
        var consume = await Obus.RunAsync(null, null, "consume", "anything", "-g", "g", "-s", dead);

        Assert.All(new[] { categories, produce, consume }, r => Assert.True(r.ExitCode == 3, r.ToString()));
        Assert.Contains("Cannot reach any OrleansBus endpoint", categories.Stderr, StringComparison.Ordinal);
        Assert.Contains(dead, produce.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dead_server_first_in_the_list_fails_over_to_the_next_from_the_flag_or_OBUS_SERVER()
    {
        var dead = $"127.0.0.1:{FreePort.Get()}";
        Assert.Equal(0, (await Obus.RunAsync(Server, "x\n", "produce", "failover-cli")).ExitCode);

        var fromFlag = await Obus.RunAsync(null, null, "categories", "--server", $"{dead},{Server}");
        var repeated = await Obus.RunAsync(null, null, "categories", "-s", dead, "-s", Server);
        var fromEnvironment = await Obus.RunAsync($"{dead},{Server}", null, "categories");

        Assert.All(new[] { fromFlag, repeated, fromEnvironment }, r =>
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("failover-cli", r.Stdout, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData("consume", "words")] // --group is required
    [InlineData("produce")] // the category is required
    [InlineData("produce", "x", "--durability", "sometimes")]
    [InlineData("produce", "x", "--batch-bytes", "0")]
    [InlineData("consume", "x", "-g", "g", "--count", "0")]
    [InlineData("consume", "x", "-g", "g", "--from", "yesterday")]
    [InlineData("no-such-command")]
    [InlineData]
    public async Task Usage_errors_exit_2_and_say_where_help_is(params string[] args)
    {
        var run = await Obus.RunAsync(Server, null, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData]
    [InlineData("produce")]
    [InlineData("consume")]
    [InlineData("categories")]
    [InlineData("chunks")]
    [InlineData("group")]
    [InlineData("seek")]
    public async Task Every_command_explains_itself_with_help(params string[] command)
    {
        var run = await Obus.RunAsync(null, null, [.. command, "--help"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Usage:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("--server", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Progress_goes_to_stderr_when_asked_and_stdout_stays_clean()
    {
        var lines = string.Concat(Enumerable.Range(0, 5000).Select(n => $"p{n}\n"));

        var run = await Obus.RunAsync(Server, lines, "produce", "with-progress", "--progress");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stdout);
        Assert.Contains("5,000 lines read, 5,000 acknowledged", run.Stderr, StringComparison.Ordinal);
    }
}
