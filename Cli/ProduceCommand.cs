using System.CommandLine;
using OrleansBus.Client;
using OrleansBus.Contracts;

namespace OrleansBus.Cli;

/// <summary>
/// <c>obus produce &lt;category&gt;</c>: every line of stdin becomes one message (bytes as read, without the newline;
/// a last line without a newline still counts). Lines go through a <see cref="BusProducer"/>, so they travel in
/// batches of up to <c>--batch-bytes</c>, in order. Exits 0 once every line is acknowledged.
/// </summary>
internal static class ProduceCommand
{
    private const int ReadBufferBytes = 64 * 1024;

    public static Command Create()
    {
        var category = new Argument<string>("category") { Description = "Category to write to (created on first write)" };
        var durability = new Option<string?>("--durability", "-d")
        {
            Description = "What each batch waits for: page-cache (written) or fsync (on disk) [default: the category's]",
            HelpName = "page-cache|fsync",
        };
        durability.AcceptOnlyFromAmong(DurabilityNames.PageCache, DurabilityNames.Fsync);
        var batchBytes = new Option<int>("--batch-bytes")
        {
            Description = "Largest batch (one request) in bytes",
            DefaultValueFactory = _ => 1024 * 1024,
            HelpName = "bytes",
        };
        batchBytes.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 2 or > 256 * 1024 * 1024)
                result.AddError("--batch-bytes must be from 2 to 268435456.");
        });
        var lingerMs = new Option<int>("--linger-ms")
        {
            Description = "How long a batch waits for more lines before it is sent",
            DefaultValueFactory = _ => 5,
            HelpName = "ms",
        };
        lingerMs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
                result.AddError("--linger-ms must not be negative.");
        });
        var progress = new Option<bool>("--progress")
        {
            Description = "Report progress on stderr even when it is not a terminal (on a terminal it is always shown)",
        };

        var command = new Command("produce", "Send each line of stdin as one message, in batches")
        {
            category, durability, batchBytes, lingerMs, progress,
        };
        command.SetAction((parse, cancellationToken) => ObusCommand.GuardAsync(async token =>
        {
            var chosen = parse.GetValue(durability) is { } wire && DurabilityNames.TryParse(wire, out var parsed) ? parsed : (Durability?)null;
            var producerOptions = new BusProducerOptions
            {
                MaxBatchBytes = parse.GetValue(batchBytes),
                LingerTime = TimeSpan.FromMilliseconds(parse.GetValue(lingerMs)),
                Durability = chosen,
            };
            producerOptions.MaxPendingBytes = Math.Max(producerOptions.MaxPendingBytes, 4L * producerOptions.MaxBatchBytes);
            var showProgress = parse.GetValue(progress) || !Console.IsErrorRedirected;
            return await RunAsync(parse, parse.GetValue(category)!, producerOptions, showProgress, token);
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, string category, BusProducerOptions options, bool showProgress, CancellationToken cancellationToken)
    {
        await using var client = ServerOption.CreateClient(parse);
        var producer = client.CreateProducer(category, options);
        using var report = showProgress ? new ProduceProgress(producer, live: !Console.IsErrorRedirected) : null;
        var interrupted = false;
        try
        {
            await using var stdin = Console.OpenStandardInput();
            var lines = new LineReader(stdin, ReadBufferBytes);
            while (await lines.ReadLineAsync(cancellationToken) is { } line)
            {
                await producer.SendAsync(line, cancellationToken);
                report?.LineRead();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true; // Ctrl+C: still deliver what was read
        }
        finally
        {
            // Sends what is buffered and waits for it; throws the first failure that was not reported yet.
            await producer.DisposeAsync();
        }
        report?.Finish();
        return interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
    }
}
