using System.CommandLine;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.Cli;

/// <summary>
/// <c>obus consume &lt;category&gt; --group &lt;g&gt;</c>: writes every message of the group's share as one line on
/// stdout, and acknowledges a delivery only after its lines are written and flushed. Without <c>--follow</c> it exits
/// once the group has caught up: a short poll brings nothing and the group's lag is 0. With <c>--count N</c> it never
/// leases more than it still needs, so nothing it does not print is held back or redelivered.
/// </summary>
internal static class ConsumeCommand
{
    /// <summary>Poll wait when not following: how long an idle group is given before the lag check.</summary>
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromMilliseconds(500);

    /// <summary>Poll wait when following: a long poll, answered as soon as data arrives.</summary>
    private static readonly TimeSpan FollowWait = TimeSpan.FromSeconds(20);

    /// <summary>Messages per delivery: many, so a delivery is bounded by its bytes (--max-bytes) and a stream of short lines needs few round trips.</summary>
    private const int MaxMessagesPerDelivery = 1_000_000;

    public static Command Create()
    {
        var category = new Argument<string>("category") { Description = "Category to read" };
        var group = new Option<string>("--group", "-g") { Description = "Consumer group: its position is kept on the server", Required = true, HelpName = "name" };
        var from = new Option<string>("--from")
        {
            Description = "Where a new group starts (an existing group goes on from its position)",
            DefaultValueFactory = _ => "earliest",
            HelpName = "earliest|latest",
        };
        from.AcceptOnlyFromAmong("earliest", "latest");
        var count = new Option<long?>("--count", "-n") { Description = "Stop after this many messages", HelpName = "N" };
        count.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long?>() is < 1)
                result.AddError("--count must be at least 1.");
        });
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep waiting for new messages instead of exiting once caught up" };
        var consumer = new Option<string?>("--consumer") { Description = "Name of this consumer, shown in the group's lag [default: <host>-<pid>]", HelpName = "id" };
        var maxBytes = new Option<int?>("--max-bytes") { Description = "Largest delivery in bytes [default: the server's, 1 MiB]", HelpName = "bytes" };
        maxBytes.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
                result.AddError("--max-bytes must be at least 1.");
        });
        var leaseMs = new Option<int?>("--lease-ms") { Description = "How long a delivery stays leased before it is redelivered [default: the server's, 30 s]", HelpName = "ms" };
        leaseMs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 100 or > 3_600_000)
                result.AddError("--lease-ms must be from 100 to 3600000.");
        });
        consumer.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { Length: 0 or > 200 })
                result.AddError("--consumer must be 1 to 200 characters.");
        });

        var command = new Command("consume", "Write the group's messages to stdout, one per line, acknowledging after each write")
        {
            category, group, from, count, follow, consumer, maxBytes, leaseMs,
        };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            var isFollowing = parse.GetValue(follow);
            var options = new ConsumeOptions
            {
                Start = parse.GetValue(from) == "latest" ? ConsumeStart.Latest : ConsumeStart.Earliest,
                ConsumerId = parse.GetValue(consumer),
                MaxBytes = parse.GetValue(maxBytes),
                LeaseTime = parse.GetValue(leaseMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
                WaitTime = isFollowing ? FollowWait : CatchUpWait,
                MaxMessages = MaxMessagesPerDelivery,
            };
            await using var client = ServerOption.CreateClient(parse);
            return await RunAsync(client, parse.GetValue(category)!, parse.GetValue(group)!, options, parse.GetValue(count), isFollowing, token);
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(BusClient client, string category, string group, ConsumeOptions options, long? count, bool follow, CancellationToken cancellationToken)
    {
        await using var stdout = StandardOutput.Open();
        long written = 0;
        while (count is null || written < count)
        {
            var poll = options;
            if (count is { } limit)
            {
                poll = options.Clone();
                poll.MaxMessages = (int)Math.Min(limit - written, MaxMessagesPerDelivery);
            }
            BusDelivery? delivery;
            try
            {
                delivery = await client.PollAsync(category, group, poll, cancellationToken);
            }
            catch (BusNotFoundException e) when (follow && e.Code == BusErrorCodes.CategoryNotFound)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // following a category nobody wrote yet
                continue;
            }
            if (delivery is null)
            {
                if (!follow && (await client.GetGroupAsync(category, group, cancellationToken)).LagMessages == 0)
                    break;
                continue;
            }
            // From here on, finish the delivery even if interrupted: write it all, then acknowledge it.
            try
            {
                await stdout.WriteAsync(delivery.Body, CancellationToken.None);
                await stdout.FlushAsync(CancellationToken.None);
            }
            catch (IOException)
            {
                // The reader went away (a closed pipe): give the messages back rather than acknowledge unread lines.
                await delivery.NackAsync(TimeSpan.Zero, "obus: stdout closed", CancellationToken.None);
                return ExitCodes.Ok;
            }
            await delivery.AckAsync(CancellationToken.None);
            written += delivery.Count;
            cancellationToken.ThrowIfCancellationRequested();
        }
        return ExitCodes.Ok;
    }
}
