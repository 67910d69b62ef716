using System.CommandLine;
using System.CommandLine.Invocation;
using OrleansBus.Client;

namespace OrleansBus.Cli;

/// <summary>Exit codes of every command; scripts branch on them.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The server refused the request (the problem detail is on stderr), or answered too late.</summary>
    public const int ServerError = 1;

    /// <summary>Bad command line.</summary>
    public const int Usage = 2;

    /// <summary>No server could be reached.</summary>
    public const int CannotConnect = 3;

    /// <summary>Stopped by Ctrl+C or SIGTERM.</summary>
    public const int Interrupted = 130;
}

/// <summary>
/// The <c>obus</c> root command: global <c>--server</c>, the subcommands, and one place that turns parse errors and
/// exceptions into exit codes and one-line messages on stderr.
/// </summary>
internal static class ObusCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("obus: produce lines from stdin, consume them to stdout, and inspect an OrleansBus cluster.")
        {
            ServerOption.Option,
            ProduceCommand.Create(),
            ConsumeCommand.Create(),
            AdminCommands.Categories(),
            AdminCommands.Chunks(),
            AdminCommands.Group(),
            AdminCommands.Seek(),
        };
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"obus: {error.Message}");
            await Console.Error.WriteLineAsync($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a command body, mapping what it throws to an exit code and a message on stderr.</summary>
    public static async Task<int> GuardAsync(Func<CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body(cancellationToken);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"obus: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (BusUnavailableException e)
        {
            await Console.Error.WriteLineAsync($"obus: {e.Message}");
            return ExitCodes.CannotConnect;
        }
        catch (BusException e)
        {
            await Console.Error.WriteLineAsync($"obus: {Describe(e)}");
            return ExitCodes.ServerError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("obus: interrupted");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>One line: status, stable code, the server's detail, and the value and limit when it named them.</summary>
    public static string Describe(BusException e)
    {
        if (e.Status == 0)
            return e.Message;
        var text = string.IsNullOrEmpty(e.Code) ? $"{e.Status}: {e.Detail}" : $"{e.Status} {e.Code}: {e.Detail}";
        if (e.Value is not null)
            text += $" (value: {e.Value}" + (e.Limit is null ? ")" : $", limit: {e.Limit})");
        return text;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, result.Command is RootCommand ? "obus" : result.Command.Name);
        return string.Join(' ', names);
    }
}

/// <summary>A command-line value the parser accepted but the command cannot use (exit code 2).</summary>
internal sealed class UsageException(string message) : Exception(message);
