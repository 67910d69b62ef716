using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.Cli;

/// <summary><c>obus categories</c>, <c>obus chunks</c>, <c>obus group</c> (a lag table) and <c>obus seek</c>: tables on stdout, or JSON with <c>--json</c>.</summary>
internal static class AdminCommands
{
    private static readonly Option<bool> Json = new("--json") { Description = "Print the server's JSON instead of a table" };

    public static Command Categories()
    {
        var command = new Command("categories", "List the categories and their settings; create one, or change its settings") { Json };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            await using var client = ServerOption.CreateClient(parse);
            var categories = await client.ListCategoriesAsync(token);
            if (parse.GetValue(Json))
                return Print(categories, CliJsonContext.Default.IReadOnlyListCategoryInfo);
            var table = new Table("NAME", "MAX_CHUNK_BYTES", "MAX_CHUNK_AGE", "DURABILITY", "RETENTION", "RETENTION_BYTES");
            foreach (var c in categories)
            {
                table.Add(c.Name, Number(c.MaxChunkBytes), Age(c.MaxChunkAgeMs), c.DefaultDurability,
                    c.RetentionMs == 0 ? "forever" : Age(c.RetentionMs), c.RetentionBytes == 0 ? "none" : Number(c.RetentionBytes));
            }
            table.WriteTo(Console.Out);
            return ExitCodes.Ok;
        }, cancellationToken));
        command.Subcommands.Add(Settings("create", "Create a category with these settings (the server's defaults for the rest); an existing one gets them too"));
        command.Subcommands.Add(Settings("set", "Change a category's settings; those not given stay as they are"));
        command.Subcommands.Add(Delete());
        return command;
    }

    /// <summary><c>obus categories delete NAME [--yes] [--no-wait]</c>: asks first (or needs --yes), then waits until it is gone.</summary>
    private static Command Delete()
    {
        var category = new Argument<string>("name") { Description = "Category name" };
        var yes = new Option<bool>("--yes") { Description = "Do not ask: delete the category, all its data and its consumer groups" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the deletion started (every silo refuses writes) instead of when it is done" };
        var timeout = new Option<string>("--timeout") { Description = "How long to wait for the deletion to finish", DefaultValueFactory = _ => "2m" };
        var command = new Command("delete", "Delete a category: its data on every silo and in the archive, and its consumer groups") { category, yes, noWait, timeout, Json };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            var name = parse.GetValue(category)!;
            var waitMs = HumanUnits.Milliseconds(parse.GetValue(timeout)!, "--timeout");
            if (!parse.GetValue(yes) && !Confirmed(name))
                throw new UsageException($"{name} was not deleted: confirm by typing its name, or add --yes.");
            await using var client = ServerOption.CreateClient(parse);
            var info = await client.DeleteCategoryAsync(name, token);
            if (parse.GetValue(Json))
                Print<IReadOnlyList<CategoryInfo>>([info], CliJsonContext.Default.IReadOnlyListCategoryInfo);
            else
                Console.Out.WriteLine($"{name}: deleting ({Progress(info.Deletion)})");
            if (parse.GetValue(noWait))
                return ExitCodes.Ok;
            var deadline = DateTime.UtcNow.AddMilliseconds(waitMs);
            while (true)
            {
                try
                {
                    info = await client.GetCategoryAsync(name, token);
                }
                catch (BusNotFoundException)
                {
                    if (!parse.GetValue(Json))
                        Console.Out.WriteLine($"{name}: deleted");
                    return ExitCodes.Ok;
                }
                if (info.State != CategoryStates.Deleting)
                {
                    Console.Error.WriteLine($"obus: {name} exists again: someone created it after the deletion finished");
                    return ExitCodes.Ok;
                }
                if (DateTime.UtcNow >= deadline)
                {
                    Console.Error.WriteLine($"obus: {name} is still being deleted ({Progress(info.Deletion)}); it goes on on the server");
                    return ExitCodes.ServerError;
                }
                await Task.Delay(250, token);
            }
        }, cancellationToken));
        return command;
    }

    /// <summary>On a terminal, the user types the name; otherwise (a script) nothing is confirmed without --yes.</summary>
    private static bool Confirmed(string name)
    {
        if (Console.IsInputRedirected)
            return false;
        Console.Error.Write($"Delete category {name} with all its data and consumer groups? Type its name to confirm: ");
        return Console.In.ReadLine()?.Trim() == name;
    }

    private static string Progress(CategoryDeletionInfo? deletion) => deletion is null ? "" :
        $"{Number(deletion.ChunksLeft)} chunks and {Number(deletion.GroupsLeft)} groups left" +
        (deletion.SilosPending.Length == 0 ? "" : $"; waiting for {string.Join(", ", deletion.SilosPending)}");

    /// <summary><c>obus categories create|set NAME [--retention 7d] [--retention-bytes 10GiB] [--max-chunk 64MiB] [--max-chunk-age 10m] [--durability fsync]</c>.</summary>
    private static Command Settings(string name, string description)
    {
        var category = new Argument<string>("name") { Description = "Category name" };
        var retention = new Option<string?>("--retention") { Description = "Delete sealed chunks older than this: 7d, 12h, 30m; forever turns it off" };
        var retentionBytes = new Option<string?>("--retention-bytes") { Description = "Delete the oldest sealed chunks while the category holds more: 10GiB, 500MB; none turns it off" };
        var maxChunk = new Option<string?>("--max-chunk") { Description = "Seal the active chunk at this size: 64MiB" };
        var maxChunkAge = new Option<string?>("--max-chunk-age") { Description = "Seal a non-empty active chunk after this long: 10m" };
        var durability = new Option<string?>("--durability") { Description = "Durability of a produce that names none: page-cache or fsync" };
        var command = new Command(name, description) { category, retention, retentionBytes, maxChunk, maxChunkAge, durability, Json };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            var update = new CategorySettingsUpdate(
                MaxChunkBytes: parse.GetValue(maxChunk) is { } size ? HumanUnits.Bytes(size, "--max-chunk") : null,
                MaxChunkAgeMs: parse.GetValue(maxChunkAge) is { } age ? HumanUnits.Milliseconds(age, "--max-chunk-age") : null,
                DefaultDurability: parse.GetValue(durability),
                RetentionMs: parse.GetValue(retention) is { } keep ? HumanUnits.Milliseconds(keep, "--retention", noneAllowed: true) : null,
                RetentionBytes: parse.GetValue(retentionBytes) is { } limit ? HumanUnits.Bytes(limit, "--retention-bytes", noneAllowed: true) : null);
            await using var client = ServerOption.CreateClient(parse);
            var info = await client.PutCategoryAsync(parse.GetValue(category)!, update, token);
            if (parse.GetValue(Json))
                return Print<IReadOnlyList<CategoryInfo>>([info], CliJsonContext.Default.IReadOnlyListCategoryInfo);
            Console.Out.WriteLine($"{info.Name}: max chunk {Number(info.MaxChunkBytes)} bytes or {Age(info.MaxChunkAgeMs)}, {info.DefaultDurability}; " +
                $"retention {(info.RetentionMs == 0 ? "forever" : Age(info.RetentionMs))}, {(info.RetentionBytes == 0 ? "no size limit" : Number(info.RetentionBytes) + " bytes")}");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static string Age(long milliseconds) => TimeSpan.FromMilliseconds(milliseconds).ToString("c", CultureInfo.InvariantCulture);

    public static Command Chunks()
    {
        var category = new Argument<string>("category") { Description = "Category name" };
        var command = new Command("chunks", "List a category's chunks, oldest first") { category, Json };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            await using var client = ServerOption.CreateClient(parse);
            var chunks = await client.ListChunksAsync(parse.GetValue(category)!, token);
            if (parse.GetValue(Json))
                return Print(chunks, CliJsonContext.Default.IReadOnlyListChunkInfo);
            var table = new Table("NAME", "OWNER", "STATE", "SIZE", "MESSAGES");
            foreach (var c in chunks)
                table.Add(c.Name, c.Owner, c.State, Number(c.Size), Number(c.Messages));
            table.WriteTo(Console.Out);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Group()
    {
        var category = new Argument<string>("category") { Description = "Category name" };
        var group = new Argument<string>("group") { Description = "Consumer group name" };
        var command = new Command("group", "Show a group's lag: in total and per chunk not yet fully acknowledged") { category, group, Json };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            await using var client = ServerOption.CreateClient(parse);
            var info = await client.GetGroupAsync(parse.GetValue(category)!, parse.GetValue(group)!, token);
            if (parse.GetValue(Json))
                return Print(info, CliJsonContext.Default.GroupInfo);
            WriteLag(info);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Seek()
    {
        var category = new Argument<string>("category") { Description = "Category name" };
        var group = new Argument<string>("group") { Description = "Consumer group name" };
        var to = new Argument<string>("to") { Description = "earliest, latest, or a time (RFC 3339, e.g. 2026-11-22T07:00:00Z): the first message appended at or after it" };
        var command = new Command("seek", "Move a group to the earliest data, the latest, or a time, dropping its leases") { category, group, to, Json };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            var target = parse.GetValue(to)!;
            await using var client = ServerOption.CreateClient(parse);
            GroupInfo info;
            if (target is "earliest" or "latest")
                info = await client.SeekAsync(parse.GetValue(category)!, parse.GetValue(group)!, target == "latest" ? SeekPosition.Latest : SeekPosition.Earliest, token);
            else if (DateTimeOffset.TryParse(target, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                info = await client.SeekAsync(parse.GetValue(category)!, parse.GetValue(group)!, time, token);
            else
                throw new UsageException($"'{target}' is not earliest, latest or a time such as 2026-11-22T07:00:00Z.");
            if (parse.GetValue(Json))
                return Print(info, CliJsonContext.Default.GroupInfo);
            WriteLag(info);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static void WriteLag(GroupInfo info)
    {
        var oldest = info.OldestUnackedAgeMs is { } ms ? TimeSpan.FromMilliseconds(ms).ToString("c", CultureInfo.InvariantCulture) : "-";
        Console.Out.WriteLine($"group {info.Group} on {info.Category}: lag {Number(info.LagMessages)} messages, {Number(info.LagBytes)} bytes; oldest unacknowledged {oldest}");
        var table = new Table("CHUNK", "ACKED", "SIZE", "LAG_BYTES", "LAG_MESSAGES", "LEASED_TO", "LEASE_EXPIRES", "DELIVERIES");
        foreach (var c in info.Chunks)
        {
            table.Add(c.Chunk, Number(c.AckedOffset), Number(c.Size), Number(c.LagBytes), Number(c.LagMessages), c.LeaseConsumer ?? "-",
                c.LeaseExpiresAt?.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) ?? "-", Number(c.DeliveryCount));
        }
        table.WriteTo(Console.Out);
    }

    private static int Print<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, type));
        return ExitCodes.Ok;
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Plain aligned columns, two spaces apart; the last column is not padded.</summary>
internal sealed class Table(params string[] header)
{
    private readonly List<string[]> _rows = [header];

    public void Add(params string[] row) => _rows.Add(row);

    public void WriteTo(TextWriter output)
    {
        var widths = new int[header.Length];
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        var line = new System.Text.StringBuilder();
        foreach (var row in _rows)
        {
            line.Clear();
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0)
                    line.Append("  ");
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i]));
            }
            output.WriteLine(line.ToString());
        }
    }
}

/// <summary>JSON output of the admin commands, indented for people.</summary>
[JsonSerializable(typeof(IReadOnlyList<CategoryInfo>))]
[JsonSerializable(typeof(IReadOnlyList<ChunkInfo>))]
[JsonSerializable(typeof(GroupInfo))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class CliJsonContext : JsonSerializerContext;
